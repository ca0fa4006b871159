//! Fictional sample data for the demo, the tests and the benchmarks.
//!
//! Setu holds dossiers on real people, so nothing real may ever be used to show it off,
//! to test it or to measure it. This module makes up person records and modus-operandi
//! notes that look like what the Dhanbad (Jharkhand) and Asansol-Durgapur (West Bengal)
//! districts actually keep: the localities, police stations, legal sections and
//! registration formats are real, but every person is fictional. Names are put together
//! at random from common first names, surnames and father's names, and a block list
//! keeps out combinations that belong to well-known people (politicians, actors,
//! cricketers, known criminals). Phone numbers and vehicle registrations are random
//! digits in the usual formats; any match with a real number is a coincidence.
//!
//! The generator is seeded, so the same seed always gives the same data, and it is fast
//! enough to build a million records for a benchmark: every table below is a `static`
//! array, and nothing is allocated per call except the strings of the record itself.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use setu_proto::v1::{
    Address, CaseRef, CaseRole, Gender, Handling, MoCategory, MoMethod, MoNote, PersonRecord,
    PersonStatus, Warning,
};
use time::macros::date;
use time::{Date, Duration};

/// A name as written in the Latin script and in Devanagari.
type Name = (&'static str, &'static str);

// ---------------------------------------------------------------------------------------
// Name tables. Every table is grouped by community so that the random combinations stay
// plausible: a Santhali surname goes with a first name a Santhal family would give, a
// Sikh first name with Singh or Kaur, and so on.
// ---------------------------------------------------------------------------------------

/// Male first names common among Hindi-speaking families in Jharkhand.
static HINDI_MALE: [Name; 54] = [
    ("Ramesh", "रमेश"),
    ("Suresh", "सुरेश"),
    ("Mahesh", "महेश"),
    ("Dinesh", "दिनेश"),
    ("Rajesh", "राजेश"),
    ("Rakesh", "राकेश"),
    ("Santosh", "संतोष"),
    ("Sanjay", "संजय"),
    ("Vijay", "विजय"),
    ("Ajay", "अजय"),
    ("Vinod", "विनोद"),
    ("Anil", "अनिल"),
    ("Sunil", "सुनील"),
    ("Pankaj", "पंकज"),
    ("Pramod", "प्रमोद"),
    ("Sudhir", "सुधीर"),
    ("Ravi", "रवि"),
    ("Raju", "राजू"),
    ("Deepak", "दीपक"),
    ("Vikash", "विकाश"),
    ("Chandan", "चंदन"),
    ("Kundan", "कुंदन"),
    ("Bhola", "भोला"),
    ("Shambhu", "शंभू"),
    ("Ganesh", "गणेश"),
    ("Binod", "बिनोद"),
    ("Arvind", "अरविंद"),
    ("Naresh", "नरेश"),
    ("Jitendra", "जितेंद्र"),
    ("Birendra", "बीरेंद्र"),
    ("Surendra", "सुरेंद्र"),
    ("Nagendra", "नागेंद्र"),
    ("Kamlesh", "कमलेश"),
    ("Brijesh", "बृजेश"),
    ("Alok", "आलोक"),
    ("Gopal", "गोपाल"),
    ("Mohan", "मोहन"),
    ("Shyam", "श्याम"),
    ("Jagdish", "जगदीश"),
    ("Kameshwar", "कामेश्वर"),
    ("Bhuneshwar", "भुनेश्वर"),
    ("Tarkeshwar", "तारकेश्वर"),
    ("Kailash", "कैलाश"),
    ("Prakash", "प्रकाश"),
    ("Baijnath", "बैजनाथ"),
    ("Laxman", "लक्ष्मण"),
    ("Sandeep", "संदीप"),
    ("Manish", "मनीष"),
    ("Rajeev", "राजीव"),
    ("Pintu", "पिंटू"),
    ("Ashok", "अशोक"),
    ("Umesh", "उमेश"),
    ("Manoj", "मनोज"),
    ("Mukesh", "मुकेश"),
];

/// Female first names common among Hindi-speaking families in Jharkhand.
static HINDI_FEMALE: [Name; 20] = [
    ("Sunita", "सुनीता"),
    ("Anita", "अनीता"),
    ("Rekha", "रेखा"),
    ("Puja", "पूजा"),
    ("Kavita", "कविता"),
    ("Suman", "सुमन"),
    ("Rina", "रीना"),
    ("Gita", "गीता"),
    ("Lakshmi", "लक्ष्मी"),
    ("Sarita", "सरिता"),
    ("Manju", "मंजू"),
    ("Pinki", "पिंकी"),
    ("Rinku", "रिंकू"),
    ("Kiran", "किरण"),
    ("Babita", "बबीता"),
    ("Poonam", "पूनम"),
    ("Sangita", "संगीता"),
    ("Anjali", "अंजलि"),
    ("Neha", "नेहा"),
    ("Sushila", "सुशीला"),
];

/// Male first names common among Bengali families in Paschim Bardhaman and Dhanbad.
static BENGALI_MALE: [Name; 41] = [
    ("Subrata", "सुब्रत"),
    ("Tapas", "तापस"),
    ("Pradip", "प्रदीप"),
    ("Biswajit", "बिस्वजीत"),
    ("Debashis", "देबाशीष"),
    ("Sukumar", "सुकुमार"),
    ("Prasanta", "प्रशांत"),
    ("Nirmal", "निर्मल"),
    ("Swapan", "स्वपन"),
    ("Tapan", "तपन"),
    ("Ashim", "असीम"),
    ("Dipankar", "दीपंकर"),
    ("Kartik", "कार्तिक"),
    ("Shyamal", "श्यामल"),
    ("Manas", "मानस"),
    ("Arup", "अरूप"),
    ("Ranjit", "रंजीत"),
    ("Shankar", "शंकर"),
    ("Bikash", "बिकाश"),
    ("Sujit", "सुजीत"),
    ("Anirban", "अनिर्बाण"),
    ("Palash", "पलाश"),
    ("Goutam", "गौतम"),
    ("Bapi", "बापी"),
    ("Tarak", "तारक"),
    ("Haradhan", "हराधन"),
    ("Gour", "गौर"),
    ("Nimai", "निमाई"),
    ("Samir", "समीर"),
    ("Amal", "अमल"),
    ("Kamal", "कमल"),
    ("Bimal", "बिमल"),
    ("Utpal", "उत्पल"),
    ("Debabrata", "देबब्रत"),
    ("Asit", "असित"),
    ("Apurba", "अपूर्ब"),
    ("Sanat", "सनत"),
    ("Rabin", "रबिन"),
    ("Tarun", "तरुण"),
    ("Sudip", "सुदीप"),
    ("Partha", "पार्थ"),
];

/// Female first names common among Bengali families.
static BENGALI_FEMALE: [Name; 15] = [
    ("Sabita", "सबिता"),
    ("Mousumi", "मौसमी"),
    ("Rumpa", "रुम्पा"),
    ("Tumpa", "टुम्पा"),
    ("Mithu", "मीठू"),
    ("Shampa", "शंपा"),
    ("Jhuma", "झुमा"),
    ("Sumitra", "सुमित्रा"),
    ("Chaitali", "चैताली"),
    ("Papiya", "पपिया"),
    ("Rupa", "रूपा"),
    ("Soma", "सोमा"),
    ("Dipali", "दीपाली"),
    ("Lipika", "लिपिका"),
    ("Mamoni", "ममोनी"),
];

/// Male first names common among Santhal, Oraon and Munda families.
static ADIVASI_MALE: [Name; 21] = [
    ("Budhan", "बुधन"),
    ("Somra", "सोमरा"),
    ("Mangal", "मंगल"),
    ("Sukra", "सुकरा"),
    ("Budhu", "बुधू"),
    ("Jitu", "जीतू"),
    ("Lakhan", "लखन"),
    ("Mangra", "मंगरा"),
    ("Sanichar", "सनीचर"),
    ("Lakhiram", "लखीराम"),
    ("Sukhlal", "सुखलाल"),
    ("Bhagirath", "भागीरथ"),
    ("Dasrath", "दशरथ"),
    ("Karma", "करमा"),
    ("Budhram", "बुधराम"),
    ("Fagu", "फागु"),
    ("Etwa", "एतवा"),
    ("Bandhan", "बंधन"),
    ("Hopna", "होपना"),
    ("Chamu", "चामू"),
    ("Sombar", "सोमबार"),
];

/// Female first names common among Santhal, Oraon and Munda families.
static ADIVASI_FEMALE: [Name; 11] = [
    ("Sonamuni", "सोनामुनी"),
    ("Phulmani", "फूलमनी"),
    ("Basanti", "बसंती"),
    ("Champa", "चंपा"),
    ("Shanti", "शांति"),
    ("Sukurmuni", "सुकुरमुनी"),
    ("Mangri", "मंगरी"),
    ("Parvati", "पार्वती"),
    ("Sumi", "सुमी"),
    ("Hiramuni", "हीरामुनी"),
    ("Dulari", "दुलारी"),
];

/// Male first names common among Muslim families of the coal belt.
static MUSLIM_MALE: [Name; 27] = [
    ("Shakil", "शकील"),
    ("Rashid", "राशिद"),
    ("Jamil", "जमील"),
    ("Naushad", "नौशाद"),
    ("Wasim", "वसीम"),
    ("Nasir", "नासिर"),
    ("Arif", "आरिफ"),
    ("Asif", "आसिफ"),
    ("Javed", "जावेद"),
    ("Shahid", "शाहिद"),
    ("Mustafa", "मुस्तफा"),
    ("Nadeem", "नदीम"),
    ("Rizwan", "रिजवान"),
    ("Anwar", "अनवर"),
    ("Iqbal", "इकबाल"),
    ("Jahangir", "जहांगीर"),
    ("Ismail", "इस्माइल"),
    ("Ibrahim", "इब्राहिम"),
    ("Aslam", "असलम"),
    ("Kalim", "कलीम"),
    ("Sajjad", "सज्जाद"),
    ("Sohrab", "सोहराब"),
    ("Ejaz", "एजाज"),
    ("Tanveer", "तनवीर"),
    ("Mehtab", "महताब"),
    ("Shamim", "शमीम"),
    ("Nizam", "निजाम"),
];

/// Female first names common among Muslim families of the coal belt.
static MUSLIM_FEMALE: [Name; 12] = [
    ("Shabnam", "शबनम"),
    ("Rubina", "रुबीना"),
    ("Farzana", "फरजाना"),
    ("Reshma", "रेशमा"),
    ("Ruksana", "रुखसाना"),
    ("Nasima", "नसीमा"),
    ("Shahana", "शहाना"),
    ("Afsana", "अफसाना"),
    ("Rehana", "रेहाना"),
    ("Tabassum", "तबस्सुम"),
    ("Nazma", "नजमा"),
    ("Sakina", "सकीना"),
];

/// Male first names common among Sikh families (many run transport businesses on the GT Road).
static SIKH_MALE: [Name; 14] = [
    ("Gurpreet", "गुरप्रीत"),
    ("Harjeet", "हरजीत"),
    ("Manjeet", "मनजीत"),
    ("Jaspal", "जसपाल"),
    ("Kulwant", "कुलवंत"),
    ("Balwinder", "बलविंदर"),
    ("Paramjit", "परमजीत"),
    ("Harpreet", "हरप्रीत"),
    ("Gurdeep", "गुरदीप"),
    ("Tejinder", "तेजिंदर"),
    ("Baljit", "बलजीत"),
    ("Kamaljeet", "कमलजीत"),
    ("Inderjit", "इंदरजीत"),
    ("Harbans", "हरबंस"),
];

/// Female first names common among Sikh families.
static SIKH_FEMALE: [Name; 8] = [
    ("Harpreet", "हरप्रीत"),
    ("Gurpreet", "गुरप्रीत"),
    ("Manjeet", "मनजीत"),
    ("Jaswinder", "जसविंदर"),
    ("Simran", "सिमरन"),
    ("Rajwinder", "राजविंदर"),
    ("Kuljeet", "कुलजीत"),
    ("Amandeep", "अमनदीप"),
];

/// Surnames common among Hindi-speaking families in Jharkhand.
static HINDI_SURNAMES: [Name; 40] = [
    ("Yadav", "यादव"),
    ("Mahato", "महतो"),
    ("Mahto", "महतो"),
    ("Singh", "सिंह"),
    ("Kumar", "कुमार"),
    ("Gupta", "गुप्ता"),
    ("Chaudhary", "चौधरी"),
    ("Paswan", "पासवान"),
    ("Rajak", "रजक"),
    ("Bauri", "बाउरी"),
    ("Bhuiya", "भुइयां"),
    ("Prasad", "प्रसाद"),
    ("Sahu", "साहू"),
    ("Sao", "साव"),
    ("Ravidas", "रविदास"),
    ("Turi", "तुरी"),
    ("Thakur", "ठाकुर"),
    ("Verma", "वर्मा"),
    ("Pandey", "पांडेय"),
    ("Mishra", "मिश्रा"),
    ("Sharma", "शर्मा"),
    ("Sinha", "सिन्हा"),
    ("Srivastava", "श्रीवास्तव"),
    ("Keshri", "केसरी"),
    ("Rawani", "रवानी"),
    ("Gope", "गोप"),
    ("Kewat", "केवट"),
    ("Mallah", "मल्लाह"),
    ("Manjhi", "मांझी"),
    ("Kushwaha", "कुशवाहा"),
    ("Barnwal", "बरनवाल"),
    ("Agarwal", "अग्रवाल"),
    ("Bhagat", "भगत"),
    ("Lohar", "लोहार"),
    ("Kalindi", "कालिंदी"),
    ("Rana", "राणा"),
    ("Ojha", "ओझा"),
    ("Das", "दास"),
    ("Rajwar", "रजवार"),
    ("Nonia", "नोनिया"),
];

/// Surnames common among Bengali families.
static BENGALI_SURNAMES: [Name; 32] = [
    ("Mondal", "मंडल"),
    ("Ghosh", "घोष"),
    ("Das", "दास"),
    ("Banerjee", "बनर्जी"),
    ("Mukherjee", "मुखर्जी"),
    ("Chatterjee", "चटर्जी"),
    ("Bhattacharya", "भट्टाचार्य"),
    ("Chakraborty", "चक्रवर्ती"),
    ("Dey", "डे"),
    ("Pal", "पाल"),
    ("Saha", "साहा"),
    ("Roy", "रॉय"),
    ("Sarkar", "सरकार"),
    ("Biswas", "बिस्वास"),
    ("Majumdar", "मजूमदार"),
    ("Bagdi", "बागदी"),
    ("Bauri", "बाउरी"),
    ("Mal", "माल"),
    ("Maji", "माझी"),
    ("Garai", "गड़ाई"),
    ("Ruidas", "रुईदास"),
    ("Dutta", "दत्ता"),
    ("Sen", "सेन"),
    ("Karmakar", "कर्मकार"),
    ("Goswami", "गोस्वामी"),
    ("Hazra", "हाजरा"),
    ("Kundu", "कुंडू"),
    ("Nandi", "नंदी"),
    ("Mallick", "मल्लिक"),
    ("Dhibar", "धीबर"),
    ("Bhandari", "भंडारी"),
    ("Pramanik", "प्रामाणिक"),
];

/// Surnames of Santhal, Oraon and Munda families.
static ADIVASI_SURNAMES: [Name; 19] = [
    ("Soren", "सोरेन"),
    ("Hembrom", "हेम्ब्रम"),
    ("Murmu", "मुर्मू"),
    ("Tudu", "टुडू"),
    ("Kisku", "किस्कू"),
    ("Marandi", "मरांडी"),
    ("Hansda", "हांसदा"),
    ("Baskey", "बास्के"),
    ("Besra", "बेसरा"),
    ("Minz", "मिंज"),
    ("Oraon", "उरांव"),
    ("Tirkey", "तिर्की"),
    ("Ekka", "एक्का"),
    ("Lakra", "लकड़ा"),
    ("Kujur", "कुजूर"),
    ("Kerketta", "केरकेट्टा"),
    ("Toppo", "टोप्पो"),
    ("Munda", "मुंडा"),
    ("Mardi", "मार्डी"),
];

/// Surnames of Muslim families of the coal belt.
static MUSLIM_SURNAMES: [Name; 14] = [
    ("Ansari", "अंसारी"),
    ("Sheikh", "शेख"),
    ("Khan", "खान"),
    ("Qureshi", "कुरैशी"),
    ("Alam", "आलम"),
    ("Hussain", "हुसैन"),
    ("Siddiqui", "सिद्दीकी"),
    ("Rahman", "रहमान"),
    ("Mallick", "मल्लिक"),
    ("Ahmed", "अहमद"),
    ("Akhtar", "अख्तर"),
    ("Mansoori", "मंसूरी"),
    ("Idrisi", "इदरीसी"),
    ("Raeen", "राईन"),
];

/// Clan names some Sikh families add after Singh or Kaur.
static SIKH_CLANS: [Name; 8] = [
    ("Gill", "गिल"),
    ("Sandhu", "संधू"),
    ("Saini", "सैनी"),
    ("Bhatia", "भाटिया"),
    ("Sethi", "सेठी"),
    ("Grewal", "ग्रेवाल"),
    ("Dhillon", "ढिल्लों"),
    ("Bajwa", "बाजवा"),
];

/// Middle names used by Hindi-speaking families.
static HINDI_MIDDLE: [Name; 6] = [
    ("Kumar", "कुमार"),
    ("Prasad", "प्रसाद"),
    ("Lal", "लाल"),
    ("Nath", "नाथ"),
    ("Chandra", "चंद्र"),
    ("Narayan", "नारायण"),
];

/// Middle names used by Bengali families.
static BENGALI_MIDDLE: [Name; 5] = [
    ("Kumar", "कुमार"),
    ("Chandra", "चंद्र"),
    ("Nath", "नाथ"),
    ("Ranjan", "रंजन"),
    ("Kanti", "कांति"),
];

/// The ways "Mohammad" is written before a Muslim man's given name.
static MUSLIM_PREFIXES: [Name; 4] = [
    ("Mohammad", "मोहम्मद"),
    ("Md.", "मो."),
    ("Mohd", "मोहम्मद"),
    ("Mohammed", "मोहम्मद"),
];

/// What Hindi-speaking women often write in place of the family surname.
static HINDI_FEMALE_SURNAMES: [Name; 2] = [("Devi", "देवी"), ("Kumari", "कुमारी")];

/// What Muslim women often write in place of the family surname.
static MUSLIM_FEMALE_SURNAMES: [Name; 4] = [
    ("Khatoon", "खातून"),
    ("Parveen", "परवीन"),
    ("Begum", "बेगम"),
    ("Bibi", "बीबी"),
];

const SINGH: Name = ("Singh", "सिंह");
const KAUR: Name = ("Kaur", "कौर");

/// First-name and surname pairs that belong to well-known people. A generated name whose
/// given name and surname (or nickname and surname) match one of these is thrown away.
/// The tables above already leave out first names that are famous on their own.
static BLOCKED: &[(&str, &str)] = &[
    ("Sunil", "Soren"),
    ("Vijay", "Hansda"),
    ("Dasrath", "Manjhi"),
    ("Amar", "Bauri"),
    ("Sanjay", "Singh"),
    ("Mahendra", "Singh"),
    ("Pawan", "Singh"),
    ("Ajay", "Kumar"),
    ("Vijay", "Kumar"),
    ("Ashok", "Kumar"),
    ("Manoj", "Kumar"),
    ("Mukesh", "Kumar"),
    ("Rajeev", "Kumar"),
    ("Sushil", "Kumar"),
    ("Pradeep", "Kumar"),
    ("Amit", "Kumar"),
    ("Kishore", "Kumar"),
    ("Sanjeev", "Kumar"),
    ("Rajendra", "Kumar"),
    ("Umesh", "Yadav"),
    ("Pappu", "Yadav"),
    ("Manoj", "Tiwari"),
    ("Ravi", "Das"),
    ("Mohan", "Das"),
    ("Bablu", "Srivastava"),
    ("Subrata", "Mukherjee"),
    ("Subrata", "Roy"),
    ("Subrata", "Saha"),
    ("Tapas", "Pal"),
    ("Tapas", "Roy"),
    ("Biswajit", "Chatterjee"),
    ("Goutam", "Ghosh"),
    ("Partha", "Chatterjee"),
    ("Sudip", "Banerjee"),
    ("Arup", "Biswas"),
    ("Tarun", "Majumdar"),
    ("Sukumar", "Roy"),
    ("Nirmal", "Ghosh"),
    ("Bimal", "Roy"),
    ("Utpal", "Dutta"),
    ("Tapan", "Sinha"),
    ("Debabrata", "Biswas"),
    ("Dipankar", "Bhattacharya"),
    ("Anirban", "Bhattacharya"),
    ("Ranjit", "Mallick"),
    ("Ashim", "Mondal"),
    ("Asim", "Mondal"),
    ("Mousumi", "Chatterjee"),
    ("Rupa", "Ganguly"),
    ("Dilip", "Ghosh"),
    ("Javed", "Akhtar"),
    ("Javed", "Khan"),
    ("Iqbal", "Ansari"),
    ("Shakil", "Ahmed"),
    ("Nasir", "Hussain"),
    ("Rashid", "Khan"),
    ("Arif", "Khan"),
    ("Aslam", "Sheikh"),
    ("Ejaz", "Khan"),
    ("Jahangir", "Alam"),
    ("Balwinder", "Sandhu"),
];

/// Nicknames police files record for men.
static MALE_NICKNAMES: [&str; 26] = [
    "Kalia", "Chhotu", "Pappu", "Bablu", "Munna", "Guddu", "Sonu", "Monu", "Tinku", "Pintu",
    "Bittu", "Lalla", "Langda", "Kaalu", "Bhola", "Lambu", "Motu", "Bachcha", "Bapi", "Bubai",
    "Khokon", "Tunna", "Kana", "Chikna", "Dablu", "Golu",
];

/// Nicknames police files record for women.
static FEMALE_NICKNAMES: [&str; 9] = [
    "Pinki", "Guddi", "Munni", "Chhoti", "Rani", "Baby", "Tuktuki", "Mina", "Bulbul",
];

/// Identifying marks as a police file writes them.
static MARKS: [&str; 28] = [
    "mole on left cheek",
    "mole above upper lip",
    "mole on right side of neck",
    "cut mark above right eyebrow",
    "cut mark on left cheek",
    "burn scar on left hand",
    "burn mark on right side of neck",
    "tattoo 'Maa' on right forearm",
    "tattoo of a trishul on left wrist",
    "tattoo of a heart with initials on left arm",
    "tattoo of a scorpion on left shoulder",
    "tattoo 'Papa' on left forearm",
    "missing front tooth",
    "gold-capped front tooth",
    "limps on left leg",
    "scar on chin",
    "stitch marks on forehead",
    "six fingers on left hand",
    "squint in right eye",
    "white patches on neck",
    "stammers while speaking",
    "birthmark on back of neck",
    "old bullet injury scar on right thigh",
    "walks with a stoop",
    "left ear pierced",
    "broken nose",
    "cataract in left eye",
    "half of right index finger missing",
];

// ---------------------------------------------------------------------------------------
// Places. The localities and police stations are real; Asansol-Durgapur localities are
// policed by the Asansol-Durgapur Police Commissionerate in Paschim Bardhaman district.
// ---------------------------------------------------------------------------------------

/// Which of the two border districts a record belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Region {
    Dhanbad,
    Asansol,
}

/// Dhanbad localities and the police station that covers each.
static DHANBAD_PLACES: [(&str, &str); 24] = [
    ("Hirapur", "Dhanbad"),
    ("Bartand", "Dhanbad"),
    ("Matkuria", "Dhanbad"),
    ("Bank More", "Bank More"),
    ("Jharia", "Jharia"),
    ("Katras", "Katras"),
    ("Govindpur", "Govindpur"),
    ("Nirsa", "Nirsa"),
    ("Topchanchi", "Topchanchi"),
    ("Sindri", "Sindri"),
    ("Baghmara", "Baghmara"),
    ("Putki", "Putki"),
    ("Kenduadih", "Kenduadih"),
    ("Saraidhela", "Saraidhela"),
    ("Kusum Vihar", "Saraidhela"),
    ("Dhansar", "Dhansar"),
    ("Jorapokhar", "Jorapokhar"),
    ("Tetulmari", "Tetulmari"),
    ("Chirkunda", "Chirkunda"),
    ("Maithon", "Maithon"),
    ("Baliapur", "Baliapur"),
    ("Tundi", "Tundi"),
    ("Bhowra", "Bhowra"),
    ("Sudamdih", "Sudamdih"),
];

/// Asansol-Durgapur localities and the police station that covers each.
static ASANSOL_PLACES: [(&str, &str); 22] = [
    ("Kulti", "Kulti"),
    ("Barakar", "Kulti"),
    ("Neamatpur", "Kulti"),
    ("Raniganj", "Raniganj"),
    ("Jamuria", "Jamuria"),
    ("Hirapur", "Hirapur"),
    ("Burnpur", "Hirapur"),
    ("Salanpur", "Salanpur"),
    ("Rupnarayanpur", "Salanpur"),
    ("Andal", "Andal"),
    ("Ukhra", "Andal"),
    ("Pandabeswar", "Pandabeswar"),
    ("Durgapur", "Durgapur"),
    ("Benachity", "Durgapur"),
    ("Bidhannagar", "New Township"),
    ("Kanksa", "Kanksa"),
    ("Chittaranjan", "Chittaranjan"),
    ("Barabani", "Barabani"),
    ("Court More", "Asansol South"),
    ("Ushagram", "Asansol South"),
    ("Apcar Garden", "Asansol North"),
    ("Budbud", "Budbud"),
];

/// Escape routes out of Dhanbad.
static DHANBAD_ROUTES: [&str; 7] = [
    "NH-19 towards Barakar bridge",
    "Chirkunda check post into Kulti",
    "Maithon dam road into West Bengal",
    "Govindpur-Tundi road towards Giridih",
    "Katras-Phusro road towards Bokaro",
    "Nirsa-Mugma road through the colliery area",
    "Dhanbad-Bokaro road via Rajganj",
];

/// Escape routes out of Asansol-Durgapur.
static ASANSOL_ROUTES: [&str; 7] = [
    "NH-19 towards Chirkunda and Dhanbad",
    "Barakar bridge into Jharkhand",
    "Salanpur-Rupnarayanpur road towards Chittaranjan and Mihijam",
    "Ajay river ghats near Pandabeswar into Birbhum",
    "Durgapur barrage road towards Bankura",
    "NH-19 towards Durgapur and Bardhaman",
    "Raniganj-Jamuria road through the abandoned mine area",
];

impl Region {
    /// The region of an origin: "jh-..." is Dhanbad, "wb-..." is Asansol-Durgapur, and any
    /// other origin draws one of the two at random for each record.
    fn of(origin: &str, rng: &mut StdRng) -> Region {
        if origin.starts_with("jh-") {
            Region::Dhanbad
        } else if origin.starts_with("wb-") {
            Region::Asansol
        } else if rng.random_bool(0.5) {
            Region::Dhanbad
        } else {
            Region::Asansol
        }
    }

    fn places(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Region::Dhanbad => &DHANBAD_PLACES,
            Region::Asansol => &ASANSOL_PLACES,
        }
    }

    fn routes(self) -> &'static [&'static str] {
        match self {
            Region::Dhanbad => &DHANBAD_ROUTES,
            Region::Asansol => &ASANSOL_ROUTES,
        }
    }

    fn district(self) -> &'static str {
        match self {
            Region::Dhanbad => "Dhanbad",
            Region::Asansol => "Paschim Bardhaman",
        }
    }

    fn state(self) -> &'static str {
        match self {
            Region::Dhanbad => "Jharkhand",
            Region::Asansol => "West Bengal",
        }
    }

    /// Registration prefixes seen on vehicles in the region, the home state's most often.
    fn plate_codes(self) -> &'static [&'static str] {
        match self {
            Region::Dhanbad => &["JH 10", "JH 10", "JH 10", "JH 09", "WB 38"],
            Region::Asansol => &["WB 38", "WB 38", "WB 38", "WB 37", "JH 10"],
        }
    }

    /// The prefixes of the district's dossier numbers.
    fn ref_prefixes(self) -> &'static [&'static str] {
        match self {
            Region::Dhanbad => &["DHN/ACL", "DHN/ACL", "DHN/HS"],
            Region::Asansol => &["ADPC/HS", "ADPC/HS", "ADPC/ACL"],
        }
    }

    /// How often each community appears among the region's records.
    fn communities(self) -> &'static [(Community, u32)] {
        match self {
            Region::Dhanbad => &[
                (Community::Hindi, 45),
                (Community::Adivasi, 18),
                (Community::Muslim, 20),
                (Community::Bengali, 12),
                (Community::Sikh, 5),
            ],
            Region::Asansol => &[
                (Community::Bengali, 45),
                (Community::Hindi, 22),
                (Community::Muslim, 20),
                (Community::Adivasi, 9),
                (Community::Sikh, 4),
            ],
        }
    }
}

// ---------------------------------------------------------------------------------------
// Offences and modus-operandi profiles.
// ---------------------------------------------------------------------------------------

/// One offence in the old Indian Penal Code and in the Bharatiya Nyaya Sanhita that
/// replaced it on 1 July 2024.
type Offence = (&'static str, &'static str);

const ROBBERY: Offence = ("IPC 392", "BNS 309(4)");
const DACOITY: Offence = ("IPC 395", "BNS 310(2)");
const DACOITY_PREPARATION: Offence = ("IPC 399", "BNS 310(4)");
const THEFT: Offence = ("IPC 379", "BNS 303(2)");
const THEFT_IN_DWELLING: Offence = ("IPC 380", "BNS 305");
const HOUSE_BREAKING_NIGHT: Offence = ("IPC 457", "BNS 331(4)");
const SNATCHING: Offence = ("IPC 356", "BNS 304(2)");
const STOLEN_PROPERTY: Offence = ("IPC 411", "BNS 317(2)");
const EXTORTION: Offence = ("IPC 384", "BNS 308(2)");
const ATTEMPT_TO_MURDER: Offence = ("IPC 307", "BNS 109");
const MURDER: Offence = ("IPC 302", "BNS 103(1)");
const CHEATING: Offence = ("IPC 420", "BNS 318(4)");
const CONSPIRACY: Offence = ("IPC 120B", "BNS 61(2)");
const COMMON_INTENTION: Offence = ("IPC 34", "BNS 3(5)");
const FORGERY: Offence = ("IPC 468", "BNS 336(3)");
const COUNTERFEIT_NOTES: Offence = ("IPC 489B", "BNS 179");

/// Everything needed to write a believable MO note of one kind, and the sections the
/// matching cases are registered under.
struct Profile {
    category: MoCategory,
    /// The free-text category when `category` is OTHER; empty otherwise.
    other: &'static str,
    summaries: &'static [&'static str],
    weapons: &'static [&'static str],
    vehicles: &'static [&'static str],
    times: &'static [&'static str],
    targets: &'static [&'static str],
    offences: &'static [Offence],
    special_acts: &'static [&'static str],
}

static PROFILES: [Profile; 15] = [
    Profile {
        category: MoCategory::AtmRobbery,
        other: "",
        summaries: &[
            "Gang of four cuts ATM shutters with gas cutters between 1 and 4 am, escapes on motorcycles towards the border.",
            "Two men spray black paint on the CCTV camera, pull the cash machine out with a pickup van and break it open in a forest patch.",
            "Gang cuts the alarm wire, opens the cash safe with a gas cutter and is gone within twenty minutes.",
        ],
        weapons: &["gas cutter", "LPG cylinder", "crowbar", "country-made pistol", "black spray paint"],
        vehicles: &["black Pulsar", "pickup van", "white Bolero without number plate", "stolen Scorpio"],
        times: &["late night, 01:00-04:00", "after midnight, 00:30-03:00"],
        targets: &["ATM kiosks without a night guard", "ATMs on the highway outside town", "ATMs in market lanes that close at night"],
        offences: &[THEFT, HOUSE_BREAKING_NIGHT, DACOITY_PREPARATION],
        special_acts: &["Arms Act 25(1-b)"],
    },
    Profile {
        category: MoCategory::BankRobbery,
        other: "",
        summaries: &[
            "Five armed men enter a rural branch minutes after opening, lock the staff in the strong room and leave with the cash in under ten minutes.",
            "Gang walks in posing as customers, takes the guard's gun at pistol point and escapes on two motorcycles.",
            "Gang follows Customer Service Point operators carrying cash to the bank and robs them on village roads.",
        ],
        weapons: &["country-made pistol", "9 mm pistol", "crude bombs", "snatched guard's rifle"],
        vehicles: &["two motorcycles", "black Pulsar", "red Apache without number plate"],
        times: &["morning, 10:00-11:30 just after opening", "afternoon, 14:00-15:30"],
        targets: &["rural bank branches with a single guard", "cooperative bank branches", "Customer Service Point operators"],
        offences: &[DACOITY, ROBBERY, CONSPIRACY],
        special_acts: &["Arms Act 25(1-b)", "Arms Act 27", "Explosive Substances Act 5"],
    },
    Profile {
        category: MoCategory::JewelleryShop,
        other: "",
        summaries: &[
            "Three men pose as customers at closing time; one holds the owner at gunpoint while the other two empty the showcases.",
            "Gang breaks through the back wall of the shop at night and carries away the locker to cut it open elsewhere.",
            "A woman and a man pose as a couple buying wedding jewellery and swap real chains for fake ones.",
        ],
        weapons: &["country-made pistol", "9 mm pistol", "gas cutter", "fake gold chains"],
        vehicles: &["black Pulsar", "white Alto", "auto-rickshaw"],
        times: &["evening, 19:00-21:00 at closing time", "late night, 01:00-04:00", "afternoon, 13:00-16:00"],
        targets: &["jewellery shops in crowded markets", "small jewellers on the highway"],
        offences: &[ROBBERY, DACOITY, THEFT, CHEATING],
        special_acts: &["Arms Act 25(1-b)"],
    },
    Profile {
        category: MoCategory::PetrolPump,
        other: "",
        summaries: &[
            "Two men on a motorcycle rob the night attendant of the day's cash at pistol point and flee along the highway.",
            "Gang ties up the pump staff at night and takes the cash box from the office.",
        ],
        weapons: &["country-made pistol", "iron rod", "rope"],
        vehicles: &["black Pulsar", "Splendor with fake number plate", "red Apache without number plate"],
        times: &["late night, 23:00-02:00", "early morning, 03:00-05:00"],
        targets: &["petrol pumps on NH-19", "pumps on state highways with one attendant at night"],
        offences: &[ROBBERY, DACOITY, COMMON_INTENTION],
        special_acts: &["Arms Act 25(1-b)", "Arms Act 27"],
    },
    Profile {
        category: MoCategory::HighwayRobbery,
        other: "",
        summaries: &[
            "Gang stops trucks at night posing as checking officials, beats the drivers and takes cash and mobile phones.",
            "Gang blocks the road with logs near a culvert and robs passing cars after midnight.",
            "Gang follows traders from the weekly market and robs them on an empty stretch of the highway.",
        ],
        weapons: &["country-made pistol", "lathi", "sharp weapon", "iron rod"],
        vehicles: &["white Bolero without number plate", "two motorcycles", "stolen Scorpio"],
        times: &["late night, 00:00-03:00", "evening, 19:00-22:00"],
        targets: &["truck drivers resting at dhabas", "coal trucks", "traders returning from the weekly market"],
        offences: &[ROBBERY, DACOITY, ATTEMPT_TO_MURDER],
        special_acts: &["Arms Act 25(1-b)"],
    },
    Profile {
        category: MoCategory::ChainSnatching,
        other: "",
        summaries: &[
            "The pillion rider snatches gold chains from women walking to the temple in the morning and the pair escapes through narrow lanes.",
            "Two youths on a sports bike snatch mobile phones and chains near bus stands in the evening.",
        ],
        weapons: &["none seen", "knife shown when resisted"],
        vehicles: &["red Apache without number plate", "black Pulsar", "KTM Duke with covered number plate"],
        times: &["early morning, 05:00-07:00", "evening, 17:00-20:00"],
        targets: &["women walking to temples", "morning walkers", "passengers at bus stands"],
        offences: &[SNATCHING, STOLEN_PROPERTY, COMMON_INTENTION],
        special_acts: &[],
    },
    Profile {
        category: MoCategory::VehicleTheft,
        other: "",
        summaries: &[
            "Gang steals motorcycles with duplicate keys outside hospitals and markets and sells them across the border with fake number plates.",
            "Gang steals tractors and pickup vans at night and hands them to scrap dealers within hours.",
        ],
        weapons: &["master keys", "duplicate keys", "wire cutter"],
        vehicles: &["auto-rickshaw", "pickup van", "Splendor"],
        times: &["daytime, 11:00-16:00", "late night, 01:00-04:00"],
        targets: &["motorcycles parked outside hospitals", "vehicles parked outside markets", "tractors parked in village yards"],
        offences: &[THEFT, STOLEN_PROPERTY, FORGERY],
        special_acts: &[],
    },
    Profile {
        category: MoCategory::Burglary,
        other: "",
        summaries: &[
            "Gang breaks into locked houses while the families are away, cuts the window grill and carries the loot in the family's own bedsheets.",
            "Gang enters shops through the roof at night and empties the cash counter.",
        ],
        weapons: &["iron rod", "screwdriver", "grill cutter"],
        vehicles: &["auto-rickshaw", "Splendor"],
        times: &["late night, 01:00-04:00", "during festivals and weddings"],
        targets: &["locked houses of families away on travel", "shops in market complexes", "quarters in colliery colonies"],
        offences: &[HOUSE_BREAKING_NIGHT, THEFT_IN_DWELLING, STOLEN_PROPERTY],
        special_acts: &[],
    },
    Profile {
        category: MoCategory::CyberFraud,
        other: "",
        summaries: &[
            "Gang calls victims as bank officials asking for a KYC update, gets the OTP and empties the account through mobile wallets.",
            "Gang sends fake electricity disconnection messages and takes over the victims' phones through a screen-sharing app.",
            "Gang posts advertisements for second-hand goods posing as army officers on transfer and collects advance payments.",
        ],
        weapons: &["SIM cards issued on forged documents", "rented bank accounts", "screen-sharing app", "second-hand mobile phones"],
        vehicles: &[],
        times: &["office hours, 10:00-18:00", "evenings, 18:00-21:00"],
        targets: &["elderly bank customers", "electricity consumers", "people selling goods online"],
        offences: &[CHEATING, FORGERY, CONSPIRACY],
        special_acts: &["IT Act 66C", "IT Act 66D"],
    },
    Profile {
        category: MoCategory::LiquorSmuggling,
        other: "",
        summaries: &[
            "Gang carries liquor in hidden compartments of trucks loaded with vegetables, bound for Bihar where liquor is banned.",
            "Gang runs an illegal distillery in a forest patch and supplies country liquor to villages on motorcycles.",
        ],
        weapons: &["none seen"],
        vehicles: &["Tata 407 truck with false floor", "white Bolero", "motorcycles with plastic cans"],
        times: &["night, 22:00-03:00", "early morning, 04:00-06:00"],
        targets: &["buyers across the Bihar border", "village liquor outlets"],
        offences: &[CHEATING, CONSPIRACY],
        special_acts: &["Excise Act"],
    },
    Profile {
        category: MoCategory::Extortion,
        other: "",
        summaries: &[
            "Gang threatens coal traders and contractors on the phone in the name of a jailed gang leader and fires outside the houses of those who refuse.",
            "Gang demands a monthly levy from brick kiln owners and transporters and collects the cash through local agents.",
        ],
        weapons: &["country-made pistol", "9 mm pistol", "crude bombs", "internet calling apps"],
        vehicles: &["black Pulsar", "white Scorpio"],
        times: &["calls in the evening, firing late at night"],
        targets: &["coal traders", "civil contractors", "brick kiln owners", "transporters"],
        offences: &[EXTORTION, ATTEMPT_TO_MURDER, CONSPIRACY, MURDER],
        special_acts: &["Arms Act 25(1-b)", "Arms Act 27", "Explosive Substances Act 5"],
    },
    Profile {
        category: MoCategory::Arms,
        other: "",
        summaries: &[
            "Gang buys country-made pistols from makeshift factories and sells them with cartridges to local criminals.",
            "A man runs a small gun factory in a rented house, turning lathe parts into pistols.",
        ],
        weapons: &["country-made pistols", "7.65 mm pistols", "live cartridges", "lathe machine"],
        vehicles: &["Splendor", "bus passengers carrying parcels"],
        times: &["any time, deals fixed on the phone"],
        targets: &["local criminals", "extortion gangs"],
        offences: &[CONSPIRACY],
        special_acts: &["Arms Act 25(1-a)", "Arms Act 25(1-b)", "Arms Act 26"],
    },
    Profile {
        category: MoCategory::Other,
        other: "Coal theft",
        summaries: &[
            "Gang digs coal from abandoned mine faces at night and moves it on bicycles and trucks to illegal depots.",
            "Gang loads coal from colliery stockyards into trucks with forged transport challans.",
        ],
        weapons: &["shovels and baskets", "forged challans"],
        vehicles: &["bicycles loaded with coal sacks", "trucks without number plates", "tractor with trolley"],
        times: &["night, 21:00-04:00"],
        targets: &["abandoned mine faces", "colliery stockyards", "coal depots"],
        offences: &[THEFT, STOLEN_PROPERTY, FORGERY],
        special_acts: &["MMDR Act 21"],
    },
    Profile {
        category: MoCategory::Other,
        other: "Railway cable theft",
        summaries: &[
            "Gang cuts copper signal cable along the railway line at night and sells it to scrap dealers.",
        ],
        weapons: &["hacksaw", "cable cutter"],
        vehicles: &["auto-rickshaw", "pickup van"],
        times: &["late night, 01:00-04:00"],
        targets: &["railway signal cables", "overhead wire fittings"],
        offences: &[THEFT, STOLEN_PROPERTY],
        special_acts: &["Railway Property (Unlawful Possession) Act 3"],
    },
    Profile {
        category: MoCategory::Other,
        other: "Fake currency",
        summaries: &[
            "Gang passes fake 500-rupee notes at weekly markets, buying small items to collect genuine change.",
        ],
        weapons: &["fake 500-rupee notes"],
        vehicles: &["Splendor", "bus"],
        times: &["market days, 10:00-18:00"],
        targets: &["vegetable sellers at weekly markets", "small shopkeepers"],
        offences: &[COUNTERFEIT_NOTES, CHEATING],
        special_acts: &[],
    },
];

// ---------------------------------------------------------------------------------------
// Small helpers. None of them can panic: `choose` on an empty slice falls back to the
// type's default, and every table above is non-empty (the tests check this).
// ---------------------------------------------------------------------------------------

/// One element of a table, or the default value if the table were ever empty.
fn pick<T: Copy + Default>(rng: &mut StdRng, items: &[T]) -> T {
    items.choose(rng).copied().unwrap_or_default()
}

/// One element of a weighted table, or `fallback` if the table is empty.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)], fallback: T) -> T {
    let total: u32 = items.iter().map(|(_, weight)| weight).sum();
    if total == 0 {
        return fallback;
    }
    let mut roll = rng.random_range(0..total);
    for &(item, weight) in items {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    fallback
}

/// Up to `count` distinct elements of a table, in random order.
fn pick_distinct<T: Copy>(rng: &mut StdRng, items: &[T], count: usize) -> Vec<T> {
    items.choose_multiple(rng, count).copied().collect()
}

/// Whether a given name and surname together belong to a well-known person.
fn blocked(first: &str, surname: &str) -> bool {
    BLOCKED.iter().any(|&(f, s)| f == first && s == surname)
}

/// Joins the non-empty parts of a name with single spaces.
fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(48);
    for part in parts.iter().filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// A date between 2018 and the end of 2025 as "YYYY-MM-DD", with a later date at most
/// `max_span_days` after it (but not past the end of 2025).
fn date_pair(rng: &mut StdRng, max_span_days: i64) -> (String, String) {
    let start = date!(2018 - 01 - 01);
    let end = date!(2025 - 12 - 31);
    let first = start
        .checked_add(Duration::days(rng.random_range(0..=2_900)))
        .unwrap_or(start)
        .min(end);
    let last = first
        .checked_add(Duration::days(rng.random_range(0..=max_span_days)))
        .unwrap_or(first)
        .min(end);
    (format_date(first), format_date(last))
}

fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

// ---------------------------------------------------------------------------------------
// Names.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Community {
    Hindi,
    Bengali,
    Adivasi,
    Muslim,
    Sikh,
}

/// The pieces of a generated name, kept apart so that aliases and the father's name can be
/// built from them.
struct NameParts {
    community: Community,
    /// "Mohammad", "Md." and the like before a Muslim man's given name.
    prefix: Name,
    first: Name,
    middle: Name,
    /// The last word of the name as written: a family surname, or Devi, Khatoon, Kaur...
    surname: Name,
    /// The family surname the father carries; for Sikhs without a clan name, Singh.
    family: Name,
}

impl NameParts {
    fn name(&self) -> String {
        join(&[self.prefix.0, self.first.0, self.middle.0, self.surname.0])
    }

    fn name_local(&self) -> String {
        join(&[self.prefix.1, self.first.1, self.middle.1, self.surname.1])
    }
}

fn male_first(rng: &mut StdRng, community: Community) -> Name {
    match community {
        Community::Hindi => pick(rng, &HINDI_MALE),
        Community::Bengali => pick(rng, &BENGALI_MALE),
        // Many Adivasi families give Hindi names as well as their own.
        Community::Adivasi if rng.random_bool(0.4) => pick(rng, &HINDI_MALE),
        Community::Adivasi => pick(rng, &ADIVASI_MALE),
        Community::Muslim => pick(rng, &MUSLIM_MALE),
        Community::Sikh => pick(rng, &SIKH_MALE),
    }
}

fn female_first(rng: &mut StdRng, community: Community) -> Name {
    match community {
        Community::Hindi => pick(rng, &HINDI_FEMALE),
        Community::Bengali => pick(rng, &BENGALI_FEMALE),
        Community::Adivasi if rng.random_bool(0.3) => pick(rng, &HINDI_FEMALE),
        Community::Adivasi => pick(rng, &ADIVASI_FEMALE),
        Community::Muslim => pick(rng, &MUSLIM_FEMALE),
        Community::Sikh => pick(rng, &SIKH_FEMALE),
    }
}

fn family_surname(rng: &mut StdRng, community: Community) -> Name {
    match community {
        Community::Hindi => pick(rng, &HINDI_SURNAMES),
        Community::Bengali => pick(rng, &BENGALI_SURNAMES),
        Community::Adivasi => pick(rng, &ADIVASI_SURNAMES),
        Community::Muslim => pick(rng, &MUSLIM_SURNAMES),
        Community::Sikh => pick(rng, &SIKH_CLANS),
    }
}

/// One attempt at a name; the caller throws it away if it matches a famous person.
fn name_attempt(rng: &mut StdRng, community: Community, female: bool) -> NameParts {
    let first = if female {
        female_first(rng, community)
    } else {
        male_first(rng, community)
    };
    let family = family_surname(rng, community);
    let mut parts = NameParts {
        community,
        prefix: ("", ""),
        first,
        middle: ("", ""),
        surname: family,
        family,
    };
    match community {
        Community::Hindi | Community::Bengali if !female => {
            let (table, chance): (&[Name], f64) = if community == Community::Hindi {
                (&HINDI_MIDDLE, 0.35)
            } else {
                (&BENGALI_MIDDLE, 0.3)
            };
            if rng.random_bool(chance) {
                let middle = pick(rng, table);
                // "Suresh Kumar Kumar" is not a name anyone has.
                if middle.0 != family.0 {
                    parts.middle = middle;
                }
            }
        }
        Community::Hindi if female && rng.random_bool(0.6) => {
            parts.surname = pick(rng, &HINDI_FEMALE_SURNAMES);
        }
        Community::Adivasi if female && rng.random_bool(0.2) => {
            parts.surname = ("Devi", "देवी");
        }
        Community::Muslim if female && rng.random_bool(0.6) => {
            parts.surname = pick(rng, &MUSLIM_FEMALE_SURNAMES);
        }
        Community::Muslim if !female && rng.random_bool(0.3) => {
            parts.prefix = pick(rng, &MUSLIM_PREFIXES);
        }
        Community::Sikh => {
            let marker = if female { KAUR } else { SINGH };
            if rng.random_bool(0.5) {
                // "Gurpreet Singh Gill": the clan name is the family surname.
                parts.middle = marker;
            } else {
                // "Gurpreet Singh": the father is simply "... Singh".
                parts.surname = marker;
                parts.family = SINGH;
            }
        }
        _ => {}
    }
    parts
}

fn is_blocked(parts: &NameParts) -> bool {
    blocked(parts.first.0, parts.surname.0) || blocked(parts.first.0, parts.family.0)
}

/// A name that does not match any well-known person.
fn make_name(rng: &mut StdRng, community: Community, female: bool) -> NameParts {
    let mut parts = name_attempt(rng, community, female);
    for _ in 0..16 {
        if !is_blocked(&parts) {
            return parts;
        }
        parts = name_attempt(rng, community, female);
    }
    // Sixteen blocked draws in a row cannot realistically happen; if they ever do, the
    // surname is replaced by one that no blocked pair uses.
    parts.surname = ("Kisku", "किस्कू");
    parts.family = parts.surname;
    parts
}

/// The father's name: a male first name of the same community and the family surname.
fn father_name(rng: &mut StdRng, parts: &NameParts) -> String {
    for _ in 0..16 {
        let first = male_first(rng, parts.community);
        if first.0 == parts.first.0 || blocked(first.0, parts.family.0) {
            continue;
        }
        return if parts.community == Community::Sikh && parts.family.0 != SINGH.0 {
            join(&[first.0, SINGH.0, parts.family.0])
        } else {
            join(&[first.0, parts.family.0])
        };
    }
    join(&["Budhan", parts.family.0])
}

/// A spelling variant of a given name as another officer might have written it:
/// Vijay/Bijay, Sandeep/Sandip, Rizwan/Rijwan, Laxman/Lakshman, Raju/Raaju. Returns
/// `None` when no usual respelling fits the name.
fn spelling_variant(first: &str) -> Option<String> {
    const RULES: [(&str, &str); 11] = [
        ("V", "B"),
        ("Bi", "Vi"),
        ("Sw", "S"),
        ("ee", "i"),
        ("oo", "u"),
        ("ksh", "x"),
        ("x", "ksh"),
        ("z", "j"),
        ("q", "k"),
        ("Ph", "F"),
        ("w", "v"),
    ];
    // Endings written with a long vowel as often as with a short one: Sameer, Shakeel.
    const ENDINGS: [(&str, &str); 3] = [("ir", "eer"), ("il", "eel"), ("im", "eem")];
    for (from, to) in RULES {
        if from.starts_with(|c: char| c.is_ascii_uppercase()) {
            if let Some(rest) = first.strip_prefix(from) {
                return Some(format!("{to}{rest}"));
            }
        } else if first.contains(from) {
            return Some(first.replacen(from, to, 1));
        }
    }
    for (from, to) in ENDINGS {
        if let Some(stem) = first.strip_suffix(from) {
            if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
                return Some(format!("{stem}{to}"));
            }
        }
    }
    // No other rule applies: lengthen a short "a" before a consonant, as in Raju and
    // Raaju. The names are ASCII, so byte positions are character positions.
    if !first.is_ascii() {
        return None;
    }
    let bytes = first.as_bytes();
    let position = (0..bytes.len().saturating_sub(1)).find(|&i| {
        bytes[i] == b'a' && !b"aeiou".contains(&bytes[i + 1]) && (i == 0 || bytes[i - 1] != b'a')
    })?;
    Some(format!(
        "{}a{}",
        &first[..=position],
        &first[position + 1..]
    ))
}

/// Initials of the given and middle names before the surname, as in "R.K. Yadav".
fn short_form(parts: &NameParts) -> String {
    let mut out = String::with_capacity(24);
    for word in [parts.first.0, parts.middle.0] {
        if let Some(initial) = word.chars().next() {
            out.push(initial);
            out.push('.');
        }
    }
    out.push(' ');
    out.push_str(parts.surname.0);
    out
}

fn alias(rng: &mut StdRng, parts: &NameParts, female: bool) -> String {
    let nicknames: &[&str] = if female {
        &FEMALE_NICKNAMES
    } else {
        &MALE_NICKNAMES
    };
    match rng.random_range(0..5) {
        0 => pick(rng, nicknames).to_string(),
        1 => {
            let nickname = pick(rng, nicknames);
            if blocked(nickname, parts.family.0) {
                nickname.to_string()
            } else {
                join(&[nickname, parts.family.0])
            }
        }
        2 if parts.community == Community::Muslim && !female => {
            // Mohammad, Md. and Mohd are the same prefix written three ways.
            let prefix = if parts.prefix.0 == "Md." {
                "Mohd"
            } else {
                "Md."
            };
            join(&[prefix, parts.first.0, parts.surname.0])
        }
        2 | 3 => match spelling_variant(parts.first.0) {
            Some(variant) => join(&[variant.as_str(), parts.surname.0]),
            None => short_form(parts),
        },
        _ => short_form(parts),
    }
}

// ---------------------------------------------------------------------------------------
// Numbers and registrations.
// ---------------------------------------------------------------------------------------

/// A random Indian mobile number (ten digits, the first 6 to 9) in one of the ways people
/// write them down. It is made up; a match with a real number is a coincidence.
fn phone(rng: &mut StdRng) -> String {
    let mut digits = String::with_capacity(10);
    digits.push(char::from(b'0' + rng.random_range(6..=9u8)));
    for _ in 0..9 {
        digits.push(char::from(b'0' + rng.random_range(0..=9u8)));
    }
    let (head, tail) = digits.split_at(5);
    match rng.random_range(0..7) {
        0 => format!("+91 {head} {tail}"),
        1 => format!("0{digits}"),
        2 => format!("{head}-{tail}"),
        3 => format!("+91-{digits}"),
        4 => format!("+91{digits}"),
        5 => format!("{head} {tail}"),
        _ => digits,
    }
}

/// A vehicle registration like "JH 10 AB 1234", written with varied spacing.
fn vehicle(rng: &mut StdRng, region: Region) -> String {
    // I and O are not used in series letters because they look like 1 and 0.
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let code = pick(rng, region.plate_codes());
    let (state, district) = code.split_once(' ').unwrap_or((code, ""));
    let mut series = String::with_capacity(2);
    for _ in 0..rng.random_range(1..=2) {
        series.push(char::from(pick(rng, LETTERS)));
    }
    let number = rng.random_range(1..=9999u32);
    match rng.random_range(0..4) {
        0 => format!("{state} {district} {series} {number:04}"),
        1 => format!("{state}{district}{series}{number:04}"),
        2 => format!("{state}-{district}-{series}-{number:04}"),
        _ => format!("{state}{district} {series} {number:04}"),
    }
}

// ---------------------------------------------------------------------------------------
// The generator.
// ---------------------------------------------------------------------------------------

/// A deterministic generator of fictional person records and MO notes: the same seed
/// always produces the same sequence.
pub struct SampleGen {
    rng: StdRng,
    /// Counts the records made so far, so that every `external_ref` is unique.
    serial: u64,
}

impl SampleGen {
    /// A generator whose output depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            serial: 0,
        }
    }

    /// A fictional person record owned by `origin` ("jh-..." gives Dhanbad places,
    /// "wb-..." Asansol-Durgapur ones). The id, version, timestamps, authors and photos are
    /// left empty for the node to assign; `external_ref` is unique per generator.
    pub fn person(&mut self, origin: &str) -> PersonRecord {
        self.serial += 1;
        let rng = &mut self.rng;
        let region = Region::of(origin, rng);

        let gender = weighted(
            rng,
            &[
                (Gender::Male, 880),
                (Gender::Female, 115),
                (Gender::Other, 5),
            ],
            Gender::Male,
        );
        // People recorded as "other" get a name from either list.
        let female = match gender {
            Gender::Female => true,
            Gender::Other => rng.random_bool(0.5),
            _ => false,
        };
        let community = weighted(rng, region.communities(), Community::Hindi);
        let parts = make_name(rng, community, female);

        let name_local = if rng.random_bool(0.5) {
            parts.name_local()
        } else {
            String::new()
        };
        let alias_count = weighted(rng, &[(0usize, 4), (1, 4), (2, 2)], 0);
        let mut aliases: Vec<String> = Vec::with_capacity(alias_count);
        let name = parts.name();
        for _ in 0..alias_count {
            let candidate = alias(rng, &parts, female);
            if candidate != name && !aliases.contains(&candidate) {
                aliases.push(candidate);
            }
        }

        let (birth_year, age_min, age_max) = if rng.random_bool(0.8) {
            (rng.random_range(1960..=2006u32), 0, 0)
        } else {
            let low = rng.random_range(18..=55u32);
            (0, low, low + rng.random_range(3..=10u32))
        };

        let places = region.places();
        let address_count = if rng.random_bool(0.3) { 2 } else { 1 };
        let addresses = pick_distinct(rng, places, address_count)
            .into_iter()
            .map(|(locality, station)| Address {
                locality: locality.to_string(),
                police_station: format!("{station} PS"),
                district: region.district().to_string(),
                state: region.state().to_string(),
            })
            .collect();

        let mark_count = weighted(rng, &[(0usize, 4), (1, 4), (2, 2)], 0);
        let identifying_marks = pick_distinct(rng, &MARKS, mark_count)
            .into_iter()
            .map(str::to_string)
            .collect();
        let phone_count = weighted(rng, &[(0usize, 3), (1, 5), (2, 2)], 0);
        let phones = (0..phone_count).map(|_| phone(rng)).collect();
        let vehicle_count = weighted(rng, &[(0usize, 6), (1, 3), (2, 1)], 0);
        let vehicles = (0..vehicle_count).map(|_| vehicle(rng, region)).collect();

        let status = weighted(
            rng,
            &[
                (PersonStatus::Active, 30),
                (PersonStatus::Wanted, 15),
                (PersonStatus::Absconding, 10),
                (PersonStatus::Arrested, 10),
                (PersonStatus::InCustody, 10),
                (PersonStatus::OnBail, 15),
                (PersonStatus::Convicted, 7),
                (PersonStatus::Inactive, 3),
            ],
            PersonStatus::Active,
        );
        let reward_inr = if status == PersonStatus::Wanted && rng.random_bool(0.4) {
            rng.random_range(1..=20u64) * 5_000
        } else {
            0
        };
        let warning_count = weighted(rng, &[(0usize, 5), (1, 3), (2, 2)], 0);
        let warnings = pick_distinct(
            rng,
            &[
                Warning::Armed,
                Warning::Violent,
                Warning::EscapeRisk,
                Warning::SelfHarmRisk,
            ],
            warning_count,
        )
        .into_iter()
        .map(|warning| warning as i32)
        .collect();

        let case_count = weighted(rng, &[(1usize, 5), (2, 3), (3, 2)], 1);
        let mut cases = Vec::with_capacity(case_count);
        for index in 0..case_count {
            let profile = pick_profile(rng);
            let role = match status {
                // A convicted person's first case is the one they were convicted in.
                PersonStatus::Convicted if index == 0 => CaseRole::Convicted,
                PersonStatus::Active | PersonStatus::Wanted | PersonStatus::Absconding => weighted(
                    rng,
                    &[(CaseRole::Suspect, 1), (CaseRole::Accused, 2)],
                    CaseRole::Accused,
                ),
                _ => weighted(
                    rng,
                    &[
                        (CaseRole::Accused, 6),
                        (CaseRole::Suspect, 2),
                        (CaseRole::Convicted, 1),
                    ],
                    CaseRole::Accused,
                ),
            };
            cases.push(case_ref(rng, region, profile, role));
        }

        let prefix = pick(rng, region.ref_prefixes());
        let ref_year = rng.random_range(2015..=2025u32);
        let external_ref = match region {
            Region::Dhanbad => format!("{prefix}/{ref_year}/{:04}", self.serial),
            Region::Asansol => format!("{prefix}/{ref_year}/{:03}", self.serial),
        };

        PersonRecord {
            origin: origin.to_string(),
            external_ref,
            father_name: father_name(rng, &parts),
            name,
            name_local,
            aliases,
            gender: gender as i32,
            birth_year,
            age_min,
            age_max,
            addresses,
            identifying_marks,
            phones,
            vehicles,
            status: status as i32,
            reward_inr,
            warnings,
            cases,
            handling: handling(rng, 80, 15, 5) as i32,
            ..PersonRecord::default()
        }
    }

    /// A fictional MO note owned by `origin`, linked to exactly `record_ids`. The id,
    /// version, timestamps and authors are left empty for the node to assign.
    pub fn mo_note(&mut self, origin: &str, record_ids: &[String]) -> MoNote {
        let rng = &mut self.rng;
        let region = Region::of(origin, rng);
        let profile = pick_profile(rng);

        let weapon_count = rng.random_range(1..=2);
        let vehicle_count = rng.random_range(1..=2);
        let target_count = rng.random_range(1..=2);
        let route_count = rng.random_range(1..=2);
        let method = MoMethod {
            weapons: strings(pick_distinct(rng, profile.weapons, weapon_count)),
            vehicles: strings(pick_distinct(rng, profile.vehicles, vehicle_count)),
            time_of_day: pick(rng, profile.times).to_string(),
            targets: strings(pick_distinct(rng, profile.targets, target_count)),
            escape_routes: strings(pick_distinct(rng, region.routes(), route_count)),
        };

        let place_count = rng.random_range(2..=3);
        let places = pick_distinct(rng, region.places(), place_count)
            .into_iter()
            .map(|(locality, _)| locality.to_string())
            .collect();
        let (first_seen, last_seen) = date_pair(rng, 720);

        let case_count = weighted(rng, &[(0usize, 3), (1, 5), (2, 2)], 0);
        let cases = (0..case_count)
            .map(|_| {
                let role = weighted(
                    rng,
                    &[(CaseRole::Accused, 3), (CaseRole::Suspect, 2)],
                    CaseRole::Accused,
                );
                case_ref(rng, region, profile, role)
            })
            .collect();

        MoNote {
            origin: origin.to_string(),
            record_ids: record_ids.to_vec(),
            category: profile.category as i32,
            category_other: profile.other.to_string(),
            summary: pick(rng, profile.summaries).to_string(),
            method: Some(method),
            places,
            first_seen,
            last_seen,
            cases,
            handling: handling(rng, 85, 12, 3) as i32,
            ..MoNote::default()
        }
    }
}

fn strings(items: Vec<&'static str>) -> Vec<String> {
    items.into_iter().map(str::to_string).collect()
}

fn pick_profile(rng: &mut StdRng) -> &'static Profile {
    PROFILES.choose(rng).unwrap_or(&PROFILES[0])
}

fn handling(rng: &mut StdRng, federation: u32, peers: u32, local: u32) -> Handling {
    weighted(
        rng,
        &[
            (Handling::Federation, federation),
            (Handling::Peers, peers),
            (Handling::LocalOnly, local),
        ],
        Handling::Federation,
    )
}

/// A case registered at one of the region's police stations under the profile's sections:
/// IPC sections before the Bharatiya Nyaya Sanhita took over in July 2024, BNS after.
fn case_ref(rng: &mut StdRng, region: Region, profile: &Profile, role: CaseRole) -> CaseRef {
    let year = rng.random_range(2015..=2025u32);
    let use_bns = year > 2024 || (year == 2024 && rng.random_bool(0.5));
    let section = |offence: Offence| if use_bns { offence.1 } else { offence.0 };

    let mut sections = Vec::with_capacity(4);
    let offence_count = rng.random_range(1..=2);
    for offence in pick_distinct(rng, profile.offences, offence_count) {
        sections.push(section(offence).to_string());
    }
    if rng.random_bool(0.4) {
        let extra = if rng.random_bool(0.5) {
            COMMON_INTENTION
        } else {
            CONSPIRACY
        };
        let extra = section(extra).to_string();
        if !sections.contains(&extra) {
            sections.push(extra);
        }
    }
    if !profile.special_acts.is_empty() && rng.random_bool(0.5) {
        sections.push(pick(rng, profile.special_acts).to_string());
    }

    let (_, station) = pick(rng, region.places());
    CaseRef {
        fir_number: format!("{}/{year}", rng.random_range(1..=450u32)),
        police_station: format!("{station} PS"),
        year,
        sections,
        role: role as i32,
    }
}

/// `count` fictional person records for `origin`, the same for the same seed.
pub fn demo_records(origin: &str, count: usize, seed: u64) -> Vec<PersonRecord> {
    let mut generator = SampleGen::new(seed);
    (0..count).map(|_| generator.person(origin)).collect()
}

/// `count` fictional MO notes for `origin`, each linked to one to three of `record_ids`
/// (to none when `record_ids` is empty), the same for the same seed.
pub fn demo_mo_notes(origin: &str, record_ids: &[String], count: usize, seed: u64) -> Vec<MoNote> {
    let mut generator = SampleGen::new(seed);
    (0..count)
        .map(|_| {
            let link_count = generator.rng.random_range(1..=3);
            let linked: Vec<String> = record_ids
                .choose_multiple(&mut generator.rng, link_count)
                .cloned()
                .collect();
            generator.mo_note(origin, &linked)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Instant;

    fn has_devanagari(text: &str) -> bool {
        text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c))
    }

    #[test]
    fn tables_are_non_empty_and_parallel() {
        let tables: [&[Name]; 20] = [
            &HINDI_MALE,
            &HINDI_FEMALE,
            &BENGALI_MALE,
            &BENGALI_FEMALE,
            &ADIVASI_MALE,
            &ADIVASI_FEMALE,
            &MUSLIM_MALE,
            &MUSLIM_FEMALE,
            &SIKH_MALE,
            &SIKH_FEMALE,
            &HINDI_SURNAMES,
            &BENGALI_SURNAMES,
            &ADIVASI_SURNAMES,
            &MUSLIM_SURNAMES,
            &SIKH_CLANS,
            &HINDI_MIDDLE,
            &BENGALI_MIDDLE,
            &MUSLIM_PREFIXES,
            &HINDI_FEMALE_SURNAMES,
            &MUSLIM_FEMALE_SURNAMES,
        ];
        for table in tables {
            assert!(!table.is_empty());
            for (latin, local) in table {
                assert!(!latin.is_empty() && latin.is_ascii(), "{latin}");
                assert!(has_devanagari(local), "{latin} has no Devanagari: {local}");
            }
        }
        for profile in &PROFILES {
            assert!(!profile.summaries.is_empty());
            assert!(!profile.weapons.is_empty());
            assert!(!profile.times.is_empty());
            assert!(!profile.targets.is_empty());
            assert!(!profile.offences.is_empty());
            assert_eq!(
                profile.category == MoCategory::Other,
                !profile.other.is_empty()
            );
        }
        let first_names = HINDI_MALE.len()
            + HINDI_FEMALE.len()
            + BENGALI_MALE.len()
            + BENGALI_FEMALE.len()
            + ADIVASI_MALE.len()
            + ADIVASI_FEMALE.len()
            + MUSLIM_MALE.len()
            + MUSLIM_FEMALE.len()
            + SIKH_MALE.len()
            + SIKH_FEMALE.len();
        assert!(first_names >= 150, "{first_names} first names");
    }

    #[test]
    fn same_seed_same_output() {
        assert_eq!(
            demo_records("jh-dhanbad", 200, 7),
            demo_records("jh-dhanbad", 200, 7)
        );
        assert_ne!(
            demo_records("jh-dhanbad", 20, 7),
            demo_records("jh-dhanbad", 20, 8)
        );
        let ids: Vec<String> = (0..10).map(|i| format!("id-{i}")).collect();
        assert_eq!(
            demo_mo_notes("wb-asansol", &ids, 50, 3),
            demo_mo_notes("wb-asansol", &ids, 50, 3)
        );
    }

    #[test]
    fn records_are_complete_and_within_limits() {
        for origin in ["jh-dhanbad", "wb-asansol", "xx-test"] {
            let records = demo_records(origin, 2_000, 11);
            assert!(records.iter().any(|r| has_devanagari(&r.name_local)));
            for record in &records {
                assert!(!record.name.trim().is_empty());
                assert!(record.name.chars().count() <= 200);
                assert_eq!(record.origin, origin);
                assert!(record.id.is_empty() && record.version == 0);
                assert!(record.photos.is_empty());
                assert!(record.created_by.is_empty() && record.created_at_ms == 0);
                assert!(!record.father_name.is_empty());
                assert!(record.aliases.len() <= 20);
                assert!(record.phones.len() <= 20);
                assert!(record.vehicles.len() <= 20);
                assert!((1..=3).contains(&record.cases.len()));
                assert!((1..=2).contains(&record.addresses.len()));
                assert!(record.birth_year != 0 || record.age_min > 0);
                assert!(record.age_max >= record.age_min);
                assert_ne!(record.status, PersonStatus::Unspecified as i32);
                assert_ne!(record.handling, Handling::Unspecified as i32);
                if record.reward_inr > 0 {
                    assert_eq!(record.status, PersonStatus::Wanted as i32);
                    assert!((5_000..=100_000).contains(&record.reward_inr));
                }
                let warnings: HashSet<_> = record.warnings.iter().collect();
                assert_eq!(warnings.len(), record.warnings.len());
                for case in &record.cases {
                    assert!(case.fir_number.ends_with(&format!("/{}", case.year)));
                    assert!(case.police_station.ends_with(" PS"));
                    assert!(!case.sections.is_empty());
                }
                for address in &record.addresses {
                    let state = if origin.starts_with("jh-") {
                        "Jharkhand"
                    } else if origin.starts_with("wb-") {
                        "West Bengal"
                    } else {
                        address.state.as_str()
                    };
                    assert_eq!(address.state, state);
                }
                let texts = record
                    .aliases
                    .iter()
                    .chain(&record.identifying_marks)
                    .chain(&record.phones)
                    .chain(&record.vehicles)
                    .chain([&record.father_name]);
                for text in texts {
                    assert!(!text.is_empty() && text.len() <= 2000);
                }
                assert!(record.name_local.chars().count() <= 200);
            }
        }
    }

    #[test]
    fn names_avoid_blocked_pairs() {
        for record in demo_records("jh-dhanbad", 5_000, 5)
            .iter()
            .chain(&demo_records("wb-asansol", 5_000, 5))
        {
            for (first, surname) in BLOCKED {
                let pair = format!("{first} {surname}");
                assert_ne!(record.name, pair);
                assert_ne!(record.father_name, pair);
                assert!(!record.aliases.contains(&pair));
            }
        }
    }

    #[test]
    fn generated_data_passes_node_validation() {
        for origin in ["jh-dhanbad", "wb-asansol"] {
            let records = demo_records(origin, 1_000, 13);
            for record in &records {
                let mut checked = record.clone();
                let result = crate::validate::record(&mut checked, Handling::Federation);
                assert!(result.is_ok(), "{result:?} for {record:?}");
            }
            let ids: Vec<String> = (0..30).map(|_| uuid::Uuid::now_v7().to_string()).collect();
            for note in demo_mo_notes(origin, &ids, 300, 13) {
                let mut checked = note.clone();
                let result = crate::validate::mo_note(&mut checked, Handling::Federation);
                assert!(result.is_ok(), "{result:?} for {note:?}");
            }
        }
    }

    #[test]
    fn spelling_variants_look_like_real_respellings() {
        let cases = [
            ("Vijay", "Bijay"),
            ("Binod", "Vinod"),
            ("Swapan", "Sapan"),
            ("Sandeep", "Sandip"),
            ("Poonam", "Punam"),
            ("Lakshmi", "Laxmi"),
            ("Laxman", "Lakshman"),
            ("Rizwan", "Rijwan"),
            ("Iqbal", "Ikbal"),
            ("Phulmani", "Fulmani"),
            ("Kulwant", "Kulvant"),
            ("Samir", "Sameer"),
            ("Shakil", "Shakeel"),
            ("Shamim", "Shameem"),
            ("Raju", "Raaju"),
            ("Naushad", "Naushaad"),
        ];
        for (name, expected) in cases {
            assert_eq!(spelling_variant(name).as_deref(), Some(expected));
        }
        assert_eq!(spelling_variant("Alok"), None);
        assert_eq!(spelling_variant("Ismail"), None);
    }

    #[test]
    fn phones_have_ten_digits() {
        for record in demo_records("wb-asansol", 3_000, 9) {
            for phone in &record.phones {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                let digits: &str = match digits.len() {
                    12 => digits.strip_prefix("91").unwrap_or(&digits),
                    11 => digits.strip_prefix('0').unwrap_or(&digits),
                    _ => &digits,
                };
                assert_eq!(digits.len(), 10, "{phone}");
                assert!(matches!(digits.as_bytes()[0], b'6'..=b'9'), "{phone}");
            }
        }
    }

    #[test]
    fn ten_thousand_records_quickly_with_unique_refs() {
        let started = Instant::now();
        let records = demo_records("jh-dhanbad", 10_000, 42);
        let elapsed = started.elapsed();
        assert_eq!(records.len(), 10_000);
        // Debug builds are slow; this still catches anything quadratic.
        assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
        let refs: HashSet<&str> = records.iter().map(|r| r.external_ref.as_str()).collect();
        assert_eq!(refs.len(), records.len());
        assert!(records.iter().all(|r| r.external_ref.starts_with("DHN/")));
    }

    #[test]
    fn mo_notes_are_complete() {
        let ids: Vec<String> = (0..20).map(|i| format!("record-{i}")).collect();
        let notes = demo_mo_notes("jh-dhanbad", &ids, 500, 1);
        for note in &notes {
            assert_eq!(note.origin, "jh-dhanbad");
            assert!((1..=3).contains(&note.record_ids.len()));
            assert!(note.record_ids.iter().all(|id| ids.contains(id)));
            assert_ne!(note.category, MoCategory::Unspecified as i32);
            if note.category == MoCategory::Other as i32 {
                assert!(!note.category_other.is_empty());
            } else {
                assert!(note.category_other.is_empty());
            }
            assert!(!note.summary.is_empty() && note.summary.len() <= 2000);
            assert!((2..=3).contains(&note.places.len()));
            assert_eq!(note.first_seen.len(), 10);
            assert!(note.first_seen <= note.last_seen);
            assert!(note.cases.len() <= 2);
            let method = note.method.as_ref().map(|m| m.escape_routes.len());
            assert!(matches!(method, Some(1..=2)));
        }
        assert!(demo_mo_notes("wb-asansol", &[], 10, 1)
            .iter()
            .all(|note| note.record_ids.is_empty()));
        let mut generator = SampleGen::new(1);
        let given = vec!["a".to_string(), "b".to_string()];
        assert_eq!(generator.mo_note("wb-asansol", &given).record_ids, given);
    }
}
