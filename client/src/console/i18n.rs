//! The console's labels in English and Hindi, so that a control room can work in either;
//! the officer switches with `?lang=hi` or `?lang=en`, remembered in a cookie.
//!
//! Data from the node (names, titles, notes) is shown as written; only the console's own
//! words are translated. A label missing from the table shows its English key.

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Hindi.
    Hi,
}

impl Lang {
    /// The language for a `lang` value, if it is one the console speaks.
    pub(crate) fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "hi" => Some(Lang::Hi),
            _ => None,
        }
    }

    /// The language code, for `<html lang>`, the cookie and the browser's date formats.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hi => "hi",
        }
    }

    /// The label `key` in this language.
    pub(crate) fn t(self, key: &'static str) -> &'static str {
        let Some(&(_, hindi)) = LABELS.iter().find(|(english, _)| *english == key) else {
            return key;
        };
        match self {
            Lang::En => key,
            Lang::Hi => hindi,
        }
    }
}

/// English label → Hindi label. Enum words (statuses, warnings, priorities, categories)
/// are keyed by the CLI's word for them.
const LABELS: &[(&str, &str)] = &[
    ("Setu console", "सेतु कंसोल"),
    ("Alerts", "अलर्ट"),
    ("Search", "खोज"),
    ("New record", "नया रिकॉर्ड"),
    ("New alert", "नया अलर्ट"),
    ("Links", "लिंक"),
    ("Open alerts", "खुले अलर्ट"),
    ("No open alerts.", "कोई खुला अलर्ट नहीं।"),
    ("live", "लाइव"),
    ("reconnecting", "पुनः जुड़ रहा है"),
    ("Sound on", "आवाज़ चालू"),
    ("Sound off", "आवाज़ बंद"),
    ("Acknowledge", "पावती दें"),
    ("What was done", "क्या कार्रवाई की गई"),
    ("acknowledged by", "पावती दी"),
    ("awaiting acknowledgement", "पावती प्रतीक्षित"),
    ("acknowledge within", "पावती शेष समय"),
    ("overdue by", "विलंब"),
    ("overdue", "विलंबित"),
    ("Posted", "जारी"),
    ("by", "द्वारा"),
    ("to", "को"),
    ("Place", "स्थान"),
    ("Incident", "घटना"),
    ("Action requested", "अपेक्षित कार्रवाई"),
    ("Vehicles", "वाहन"),
    ("Phones", "फ़ोन"),
    ("Warnings", "चेतावनियाँ"),
    ("People", "व्यक्ति"),
    ("Expires", "समाप्ति"),
    ("Name, phone, vehicle or FIR", "नाम, फ़ोन, वाहन या एफ़आईआर"),
    ("District", "ज़िला"),
    ("Status", "स्थिति"),
    ("any", "कोई भी"),
    ("searched as", "खोजा गया"),
    ("name", "नाम"),
    ("phone", "फ़ोन"),
    ("vehicle", "वाहन"),
    ("FIR", "एफ़आईआर"),
    ("matched", "मिलान"),
    ("No records matched.", "कोई रिकॉर्ड नहीं मिला।"),
    ("results", "परिणाम"),
    ("Name", "नाम"),
    ("Name in local script", "स्थानीय लिपि में नाम"),
    ("Aliases", "उपनाम"),
    ("Father", "पिता"),
    ("Gender", "लिंग"),
    ("Birth year", "जन्म वर्ष"),
    ("Age from", "आयु से"),
    ("Age to", "आयु तक"),
    ("Addresses", "पते"),
    ("Identifying marks", "पहचान चिह्न"),
    ("Reward (₹)", "इनाम (₹)"),
    ("Cases", "मामले"),
    ("Associates", "सहयोगी"),
    ("Handling", "साझा करने का नियम"),
    ("Dossier number", "डोज़ियर संख्या"),
    ("Review by", "समीक्षा तिथि"),
    ("Owning district", "स्वामी ज़िला"),
    ("Last change", "अंतिम परिवर्तन"),
    ("MO notes", "कार्यप्रणाली नोट"),
    ("Photos", "फ़ोटो"),
    ("Edit", "संपादित करें"),
    ("Print wanted notice", "वांछित सूचना छापें"),
    ("WANTED", "वांछित"),
    ("Reward", "इनाम"),
    ("Inform", "सूचित करें"),
    ("Save", "सहेजें"),
    ("Edit record", "रिकॉर्ड संपादित करें"),
    ("one per line", "प्रति पंक्ति एक"),
    ("node default", "नोड का डिफ़ॉल्ट"),
    ("The node refused this:", "नोड ने अस्वीकार किया:"),
    ("Priority", "प्राथमिकता"),
    ("Category", "श्रेणी"),
    ("Title", "शीर्षक"),
    ("Details", "विवरण"),
    ("Expires in", "समाप्ति अवधि"),
    ("Targets", "लक्षित ज़िले"),
    ("every peer", "सभी पड़ोसी ज़िले"),
    ("Record ids", "रिकॉर्ड आईडी"),
    ("Post alert", "अलर्ट जारी करें"),
    (
        "Only liaison and admin officers post alerts.",
        "केवल संपर्क और प्रशासक अधिकारी अलर्ट जारी करते हैं।",
    ),
    ("Federation links", "संघीय लिंक"),
    ("Peer", "पड़ोसी"),
    ("Address", "पता"),
    ("Connected", "जुड़ा"),
    ("yes", "हाँ"),
    ("no", "नहीं"),
    ("Last contact", "अंतिम संपर्क"),
    ("Changes to receive", "प्राप्त होने शेष"),
    ("Changes to send", "भेजने शेष"),
    ("Last check", "अंतिम जाँच"),
    ("Last error", "अंतिम त्रुटि"),
    ("Link", "लिंक"),
    ("Behind", "पीछे"),
    ("Slow link", "धीमा लिंक"),
    ("Traffic", "डेटा आवागमन"),
    ("Connections", "कनेक्शन"),
    ("Oldest undelivered change", "सबसे पुराना न पहुँचा बदलाव"),
    ("Oldest undelivered alert", "सबसे पुराना न पहुँचा अलर्ट"),
    ("Certificate expires", "प्रमाणपत्र समाप्ति"),
    (
        "This node's certificate expires",
        "इस नोड का प्रमाणपत्र समाप्त होगा",
    ),
    ("never", "कभी नहीं"),
    ("Not found.", "नहीं मिला।"),
    ("wanted", "वांछित"),
    ("active", "सक्रिय"),
    ("absconding", "फरार"),
    ("arrested", "गिरफ्तार"),
    ("in-custody", "हिरासत में"),
    ("on-bail", "ज़मानत पर"),
    ("convicted", "दोषसिद्ध"),
    ("inactive", "निष्क्रिय"),
    ("armed", "सशस्त्र"),
    ("violent", "हिंसक"),
    ("escape-risk", "भागने का खतरा"),
    ("self-harm-risk", "आत्म-हानि का खतरा"),
    ("flash", "फ़्लैश"),
    ("immediate", "तत्काल"),
    ("routine", "सामान्य"),
    ("robbery", "लूट"),
    ("wanted-person", "वांछित व्यक्ति"),
    ("vehicle-lookout", "वाहन तलाश"),
    ("missing-person", "लापता व्यक्ति"),
    ("escaped-prisoner", "फरार बंदी"),
    ("rumour-or-communal", "अफ़वाह या सांप्रदायिक"),
    ("other", "अन्य"),
    ("male", "पुरुष"),
    ("female", "महिला"),
    ("local-only", "केवल स्थानीय"),
    ("peers", "पड़ोसी ज़िले"),
    ("federation", "संघ"),
    ("suspect", "संदिग्ध"),
    ("accused", "आरोपी"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_translate_and_fall_back_to_english() {
        assert_eq!(Lang::Hi.t("Search"), "खोज");
        assert_eq!(Lang::En.t("Search"), "Search");
        assert_eq!(Lang::Hi.t("no such label"), "no such label");
        assert_eq!(Lang::parse("hi"), Some(Lang::Hi));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn every_label_is_listed_once() {
        for (i, (english, _)) in LABELS.iter().enumerate() {
            assert!(
                LABELS[i + 1..].iter().all(|(other, _)| other != english),
                "{english} is listed twice"
            );
        }
    }
}
