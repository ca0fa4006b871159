//! Spelling-variant keys for single name tokens: two spellings of the same Indian name
//! ("Seetha" and "Sita", "Chowdhury" and "Chaudhary", "Bikash" and "Vikas") get the
//! same key, while different names keep different keys as far as possible.
//!
//! A key is built from a folded Latin token in four steps:
//!
//! 1. *Consonants.* "ph" → f, z → j, q → k, x → ks, w/b/v → v (Bengali has no separate
//!    v, so "Bikash" is "Vikash"), "sh" → s, "ch"/"chh" → c, a "c" before e/i/y → s and
//!    any other "c" → k, and the aspirate "h" after k, g, j, t, d, b, r is dropped
//!    ("Seetha" → "seeta", "Bhola" → "vola"). A "w" after a or o and before a consonant
//!    is a vowel ("Chowdhury"), and so is a final one in a word of up to four letters
//!    ("Shaw"); a final "w" later in a word is a v ("Yadaw" = "Yadav"). A word-initial
//!    "y" before a vowel is a j, as Bengali writes it ("Jadav" = "Yadav", "Jogesh" =
//!    "Yogesh"), and an "n" before b, p or v is an m ("Shanbhu" = "Shambhu").
//! 2. *Long vowels and trailing letters.* A final "h" after a vowel is dropped ("Shah",
//!    "Hansdah"), then aa → a, ee/ii → i, oo/uu → u, then a final "a" is dropped from
//!    tokens of four letters or more ("Sita" → "sit", "Ajaya" → "ajay").
//! 3. *Diphthongs and y.* ai, ae, ei and a final or preconsonantal ay, ey, oy → e
//!    ("Ajay"/"Ajai", "Sheikh"/"Shaikh", "Roy"/"Rai"/"Ray", "Pandey"/"Pande"); au and
//!    ou → o; oi → e ("Roi" = "Roy", "Bijoi" = "Vijay"); a final y after a consonant → i
//!    ("Chaudhary"); "iy" before a vowel or at the end → i ("Priyanka" = "Prianka").
//! 4. *Doubled letters* collapse ("Mohammad" → "mohamad", "Pappu" → "papu").
//!
//! A small table then maps the keys of well-known multi-form names onto one canonical
//! key (Mohammad/Muhammad/Mohammed, Chaudhary/Choudhury/Chaudhry, Banerjee/
//! Bandyopadhyay, Mukherjee/Mukhopadhyay, Xalxo/Khalkho and others), and a table of
//! short forms expands abbreviations ("Md", "Mohd" → Mohammad; "Kr" → Kumar; "Pd" →
//! Prasad; "Sk" → Sheikh).

use std::collections::HashMap;
use std::sync::OnceLock;

use rphonetic::DoubleMetaphone;

use super::translit::to_latin;

/// Groups of spellings of one name that the key rules alone do not merge. The first
/// entry of each group is its canonical form.
const GROUPS: &[&[&str]] = &[
    &[
        "mohammad", "mohammed", "muhammad", "muhammed", "mohamad", "mohamed", "mohammod",
        "mahammad", "mahamad", "mohmmad", "mohmad", "muhamad", "mohamaad", "mahammed",
    ],
    &[
        "chaudhary",
        "chaudhari",
        "chaudhry",
        "chaudhuri",
        "choudhary",
        "choudhari",
        "choudhury",
        "choudhuri",
        "chowdhury",
        "chowdhary",
        "chowdhuri",
        "chodhary",
        "chaudhri",
        "choudhry",
    ],
    &["sheikh", "shaikh", "shekh", "sheik", "shaik", "seikh"],
    &[
        "banerjee",
        "banerji",
        "bannerjee",
        "bandyopadhyay",
        "bandopadhyay",
        "bondopadhyay",
        "banarji",
    ],
    &[
        "mukherjee",
        "mukherji",
        "mukharji",
        "mukerji",
        "mukhopadhyay",
        "mukhapadhyay",
    ],
    &[
        "chatterjee",
        "chatterji",
        "chaterjee",
        "chattopadhyay",
        "chatopadhyay",
    ],
    &["ganguly", "ganguli", "gangopadhyay", "gangulee"],
    &[
        "bhattacharya",
        "bhattacharyya",
        "bhattacharjee",
        "bhattacharji",
        "bhatacharya",
    ],
    &["khalkho", "xalxo", "khalko", "kalkho"],
    &["basu", "bose", "bosu", "boshu"],
    &["yadav", "jadav", "jadab", "yadab"],
    &["oraon", "uraon", "uranv", "oranv", "uraanv", "oraanv"],
];

/// A short form, the name it stands for, and whether it only counts when written as an
/// abbreviation (followed by a dot or the Devanagari abbreviation sign).
const SHORT_FORMS: &[(&str, &str, bool)] = &[
    ("md", "mohammad", false),
    ("mohd", "mohammad", false),
    ("mhd", "mohammad", false),
    ("mo", "mohammad", true),
    ("sk", "sheikh", false),
    ("shk", "sheikh", false),
    ("kr", "kumar", false),
    ("kmr", "kumar", false),
    ("ku", "kumari", true),
    ("km", "kumari", true),
    ("pd", "prasad", false),
    ("prd", "prasad", false),
    ("prsd", "prasad", false),
];

/// Titles and honorifics that are not part of a name.
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "dr", "shri", "sri", "shree", "shrimati", "srimati", "smt",
    "sushri", "late", "sv", "sva", "svargiya", "swargiya", "janab", "mst", "musammat", "mosammat",
];

/// The names of Latin letters as they are written out in Devanagari or Bengali
/// ("आर. के. यादव" for "R. K. Yadav"), after transliteration.
const SPOKEN_LETTERS: &[(&str, char)] = &[
    ("e", 'a'),
    ("bi", 'b'),
    ("si", 'c'),
    ("di", 'd'),
    ("i", 'e'),
    ("ef", 'f'),
    ("ji", 'g'),
    ("ech", 'h'),
    ("aich", 'h'),
    ("ai", 'i'),
    ("je", 'j'),
    ("ke", 'k'),
    ("el", 'l'),
    ("em", 'm'),
    ("en", 'n'),
    ("o", 'o'),
    ("pi", 'p'),
    ("kyu", 'q'),
    ("ar", 'r'),
    ("es", 's'),
    ("ti", 't'),
    ("yu", 'u'),
    ("vi", 'v'),
    ("dablyu", 'w'),
    ("eks", 'x'),
    ("vai", 'y'),
    ("zed", 'z'),
    ("jed", 'z'),
];

/// Returns the spelling-variant key of one name token. The token should be folded Latin
/// (as produced by [`to_latin`]); anything else is converted first, and characters
/// other than ASCII letters and digits are ignored.
pub fn key(token: &str) -> String {
    if token
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        canonical(raw_key(token.as_bytes()))
    } else {
        let latin: String = to_latin(token).split(' ').collect();
        canonical(raw_key(latin.as_bytes()))
    }
}

/// Replaces a key by its group's canonical key, if it belongs to a group.
fn canonical(key: String) -> String {
    match group_map().get(&key) {
        Some(canon) => canon.clone(),
        None => key,
    }
}

/// The keys of every spelling in [`GROUPS`], mapped to the key of the group's first
/// spelling.
fn group_map() -> &'static HashMap<String, String> {
    static MAP: OnceLock<HashMap<String, String>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for group in GROUPS {
            let Some(first) = group.first() else {
                continue;
            };
            let canon = raw_key(first.as_bytes());
            for spelling in group.iter() {
                map.insert(raw_key(spelling.as_bytes()), canon.clone());
            }
        }
        map
    })
}

/// Expands a short form ("md", "kr") to the name it stands for. Forms that are only
/// short forms when written as abbreviations ("Ku.", "मो०") need `abbreviated`.
pub fn short_form(latin: &str, abbreviated: bool) -> Option<&'static str> {
    SHORT_FORMS
        .iter()
        .find(|(form, _, needs_dot)| *form == latin && (abbreviated || !needs_dot))
        .map(|(_, full, _)| *full)
}

/// Returns true for titles and honorifics ("Shri", "Smt", "Dr", "Late").
pub fn is_honorific(latin: &str) -> bool {
    HONORIFICS.contains(&latin)
}

/// Returns the Latin letter whose name this transliterated token is ("ar" → 'r'), for
/// initials written out in an Indic script.
pub fn spoken_letter(latin: &str) -> Option<char> {
    SPOKEN_LETTERS
        .iter()
        .find(|(name, _)| *name == latin)
        .map(|(_, letter)| *letter)
}

/// The two Double Metaphone codes (primary and alternate) of a variant key, used as a
/// vowel-insensitive phonetic comparison. Codes are at most six characters long.
pub fn phonetic(key: &str) -> [String; 2] {
    if key.is_empty() || !key.is_ascii() {
        return [String::new(), String::new()];
    }
    let result = DoubleMetaphone::new(Some(6)).double_metaphone(key);
    [result.primary(), result.alternate()]
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Computes the key by the four steps described in the module documentation, without
/// the group table.
fn raw_key(t: &[u8]) -> String {
    let s1 = consonants(t);
    let s2 = long_vowels(&s1);
    let s3 = diphthongs(&s2);
    let mut out = String::with_capacity(s3.len());
    let mut last = None;
    for &b in &s3 {
        if Some(b) != last {
            out.push(char::from(b));
        }
        last = Some(b);
    }
    out
}

/// Step 1: consonant classes, aspirates and vocalic w.
fn consonants(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() + 2);
    let at = |k: usize| t.get(k).copied();
    let mut i = 0;
    if t.starts_with(b"jn") || t.starts_with(b"gn") {
        out.extend_from_slice(b"gy");
        i = 2;
    } else if t.first() == Some(&b'y') && t.get(1).copied().is_some_and(is_vowel) {
        // A word-initial y before a vowel is written j in Bengali ("Jadav", "Jogesh").
        out.push(b'j');
        i = 1;
    }
    while let Some(c) = at(i) {
        let next = at(i + 1);
        let mut used = 1;
        match c {
            b'x' => out.extend_from_slice(b"ks"),
            b'q' => out.push(b'k'),
            b'z' => out.push(b'j'),
            b'p' if next == Some(b'h') => {
                out.push(b'f');
                used = 2;
            }
            b'c' => {
                if next == Some(b'h') {
                    out.push(b'c');
                    used = if at(i + 2) == Some(b'h') { 3 } else { 2 };
                } else if next == Some(b'k') {
                    out.push(b'k');
                    used = 2;
                } else if matches!(next, Some(b'e' | b'i' | b'y')) {
                    out.push(b's');
                } else {
                    out.push(b'k');
                }
            }
            b's' => {
                out.push(b's');
                if next == Some(b'h') {
                    used = 2;
                }
            }
            // A w after a or o and before a consonant is a vowel ("Chowdhury"); so is a
            // final one in a short word ("Shaw", "Saw"), but a final w after four
            // letters or more is a v ("Yadaw").
            b'w' if i > 0
                && matches!(at(i - 1), Some(b'a' | b'o'))
                && (next.is_some_and(|n| !is_vowel(n)) || (next.is_none() && i < 4)) =>
            {
                out.push(b'u');
            }
            // An n before a labial is written m as often ("Shambhu", "Shanbhu").
            b'n' if matches!(next, Some(b'b' | b'p' | b'v')) => out.push(b'm'),
            b'w' | b'b' | b'v' => {
                out.push(b'v');
                if next == Some(b'h') {
                    used = 2;
                }
            }
            b'k' | b'g' | b'j' | b't' | b'd' | b'r' => {
                out.push(c);
                if next == Some(b'h') {
                    used = 2;
                }
            }
            b'a'..=b'z' | b'0'..=b'9' => out.push(c),
            _ => {}
        }
        i += used;
    }
    out
}

/// Step 2: a final "h" after a vowel, long vowels, and a final "a".
fn long_vowels(t: &[u8]) -> Vec<u8> {
    let mut t = t.to_vec();
    if t.len() >= 3 && t.last() == Some(&b'h') && t.get(t.len() - 2).is_some_and(|&b| is_vowel(b)) {
        t.pop();
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while let Some(&c) = t.get(i) {
        let next = t.get(i + 1).copied();
        match (c, next) {
            (b'a', Some(b'a')) => {
                out.push(b'a');
                i += 2;
            }
            (b'e' | b'i', Some(n)) if n == c => {
                out.push(b'i');
                i += 2;
            }
            (b'o' | b'u', Some(n)) if n == c => {
                out.push(b'u');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out.len() >= 4 && out.last() == Some(&b'a') {
        out.pop();
    }
    out
}

/// Step 3: diphthongs, and y at the end of a word or before a consonant.
fn diphthongs(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len());
    let at = |k: usize| t.get(k).copied();
    let mut i = 0;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        // A y that ends the word or precedes a consonant is a vowel glide.
        let glide_y = next == Some(b'y') && !at(i + 2).is_some_and(is_vowel);
        match (c, next) {
            (b'a', Some(b'i' | b'e')) | (b'e', Some(b'i')) => {
                out.push(b'e');
                i += 2;
            }
            (b'a' | b'e' | b'o', Some(b'y')) if glide_y => {
                out.push(b'e');
                i += 2;
            }
            (b'a' | b'o', Some(b'u')) => {
                out.push(b'o');
                i += 2;
            }
            (b'y', None) if i > 0 && !at(i - 1).is_some_and(is_vowel) => {
                out.push(b'i');
                i += 1;
            }
            // "iy" before a vowel or at the end is "i" ("Priyanka" = "Prianka",
            // "Supriya" = "Supria"), and "oi" is the "oy" glide ("Roi" = "Roy").
            (b'i', Some(b'y')) if at(i + 2).is_none_or(is_vowel) => {
                out.push(b'i');
                i += 2;
            }
            (b'o', Some(b'i')) if at(i + 2).is_none_or(|n| !is_vowel(n)) => {
                out.push(b'e');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(key(a), key(b), "{a} vs {b}");
    }

    fn different(a: &str, b: &str) {
        assert_ne!(key(a), key(b), "{a} vs {b}");
    }

    #[test]
    fn variant_classes_merge() {
        same("vikas", "wikas");
        same("vikash", "bikash");
        same("shankar", "sankar");
        same("phulmani", "fulmani");
        same("minj", "minz");
        same("zakir", "jakir");
        same("raaju", "raju");
        same("seeta", "sita");
        same("seetha", "sita");
        same("pooja", "puja");
        same("kujoor", "kujur");
        same("pappu", "papu");
        same("ajay", "ajai");
        same("ajaya", "ajay");
        same("sheikh", "shaikh");
        same("sheikh", "shekh");
        same("roy", "rai");
        same("pandey", "pande");
        same("lakshmi", "laxmi");
        same("abhishek", "avishek");
        same("hansdah", "hansda");
        same("qureshi", "kureshi");
        same("hussain", "husain");
        same("hussain", "hussein");
        same("khatoon", "khatun");
        same("sourav", "saurabh");
        same("biswas", "vishwas");
        same("mukherjee", "mukherji");
        same("gyanesh", "jnanesh");
    }

    /// Both spellings of each pair give the same key, whichever is the query, at the
    /// start, in the middle and at the end of a word.
    #[test]
    fn spelling_pairs_merge_both_ways_anywhere() {
        let pairs: &[(&str, &str)] = &[
            // w/v/b, at the start, in the middle and word-final.
            ("vikas", "wikas"),
            ("vikas", "bikas"),
            ("ravi", "rawi"),
            ("ravi", "rabi"),
            ("yadav", "yadaw"),
            ("yadav", "yadab"),
            ("jadav", "yadav"),
            ("jadaw", "yadab"),
            ("devi", "debi"),
            ("biswas", "viswas"),
            // sh/s.
            ("shankar", "sankar"),
            ("ramesh", "rames"),
            ("kishan", "kisan"),
            // z/j.
            ("zakir", "jakir"),
            ("aziz", "ajij"),
            ("minz", "minj"),
            // ph/f.
            ("phulmani", "fulmani"),
            ("saphina", "safina"),
            ("ashraph", "ashraf"),
            // ee/i.
            ("deepak", "dipak"),
            ("preeti", "priti"),
            ("shareef", "sharif"),
            // oo/u.
            ("pooja", "puja"),
            ("kujoor", "kujur"),
            ("gooddoo", "guddu"),
            // aa/a.
            ("aarti", "arti"),
            ("raajesh", "rajesh"),
            ("alaam", "alam"),
            // ou/au.
            ("sourav", "saurav"),
            ("goutam", "gautam"),
            ("mou", "mau"),
            // y/i.
            ("roy", "roi"),
            ("ray", "rai"),
            ("vijay", "bijoi"),
            ("priyanka", "prianka"),
            ("supriya", "supria"),
            ("chaudhary", "chaudhari"),
            // ksh/x.
            ("lakshmi", "laxmi"),
            ("akshay", "axay"),
            ("laksh", "lax"),
            // y/j at the start (Bengali).
            ("yogesh", "jogesh"),
            ("yamuna", "jamuna"),
            // Aspirates, ay/ai/e, oy, n/m before a labial, doubled letters.
            ("seetha", "sita"),
            ("bhola", "vola"),
            ("sheikh", "shekh"),
            ("joydeb", "jaydev"),
            ("shambhu", "shanbhu"),
            ("champa", "chanpa"),
            ("pappu", "papu"),
        ];
        let apart: Vec<String> = pairs
            .iter()
            .filter(|(a, b)| key(a) != key(b))
            .map(|(a, b)| format!("{a} {} vs {b} {}", key(a), key(b)))
            .collect();
        assert!(apart.is_empty(), "{apart:#?}");
        for (a, b) in pairs {
            same(b, a);
        }
        // A short word ending in w keeps it as a vowel.
        same("shaw", "shau");
    }

    #[test]
    fn groups_merge_the_forms_rules_cannot() {
        same("mohammad", "muhammad");
        same("mohammed", "mahammad");
        same("chaudhary", "choudhury");
        same("chowdhury", "chaudhary");
        same("chaudhri", "chaudhary");
        same("banerjee", "bandyopadhyay");
        same("mukharji", "mukhopadhyay");
        same("xalxo", "khalkho");
        same("jadab", "yadav");
        same("उरांव", "oraon");
    }

    #[test]
    fn different_names_stay_apart() {
        different("ramesh", "rakesh");
        different("sita", "gita");
        different("raju", "raja");
        different("mohan", "sohan");
        different("anil", "sunil");
        different("kumar", "kumari");
    }

    #[test]
    fn devanagari_tokens_are_keyed_after_transliteration() {
        same("रवि", "ravi");
        same("सीता", "seetha");
        same("चौधरी", "chowdhury");
    }

    #[test]
    fn short_forms_and_honorifics() {
        assert_eq!(short_form("md", false), Some("mohammad"));
        assert_eq!(short_form("kr", false), Some("kumar"));
        assert_eq!(short_form("ku", false), None);
        assert_eq!(short_form("ku", true), Some("kumari"));
        assert!(is_honorific("smt"));
        assert!(!is_honorific("kumar"));
        assert_eq!(spoken_letter("ar"), Some('r'));
    }

    #[test]
    fn phonetic_codes_ignore_vowels() {
        assert_eq!(
            phonetic(&key("chaudhary"))[0],
            phonetic(&key("chodhary"))[0]
        );
        assert_eq!(phonetic(""), [String::new(), String::new()]);
    }
}
