//! Transliteration of Indic-script names into the plain Latin spelling that Indian names
//! are usually written in, so that "रवि कुमार यादव" and "Ravi Kumar Yadav" compare equal.
//!
//! The script conversion itself is done by `vidyut-lipi` (Devanagari, Bengali/Assamese,
//! Odia, Gurmukhi and Gujarati to IAST). Its output follows Sanskrit rules, so two steps
//! follow it here:
//!
//! 1. *Popular spelling.* IAST letters become the letters Indian names are written with
//!    in English: "ś" and "ṣ" become "sh", "c" becomes "ch", "ṛ" becomes "ri", "jñ"
//!    becomes "gy", the nasal dot becomes "n" (or "m" before a labial), retroflex dots
//!    and vowel lengths are dropped.
//! 2. *Schwa deletion.* The inherent vowel that Sanskrit keeps and Hindi drops is
//!    removed: word-finally ("kumāra" → "kumar", "yādava" → "yadav"), except after a
//!    consonant cluster ending in y, r, l, v, n or m ("miśra" → "mishra", "kṛṣṇa" →
//!    "krishna"); and, for the Hindi-type scripts, in the middle of a word by the usual
//!    rule a → ∅ / VC_CV ("rājakumāra" → "rajkumar", "jagadīśa" → "jagdish").
//!
//! A `vidyut_lipi::Mapping` takes about a millisecond to build, so one per script is
//! built lazily and kept for the life of the process. Only the free function
//! `vidyut_lipi::transliterate` is used: a long-lived `Lipika` overflows an internal
//! counter after about 65 000 calls.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use vidyut_lipi::{transliterate, Mapping, Scheme};

use super::normalize::{fold, is_indic, is_indic_punctuation};

/// How much schwa deletion a script's names get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schwa {
    /// None at all: the text was already Latin.
    Keep,
    /// Word-final only (Bengali, Odia, whose medial inherent vowel is usually spoken).
    Final,
    /// Word-final and medial (Hindi and the other western scripts).
    Hindi,
}

/// The Indic scripts that are transliterated, with their Unicode block, `vidyut-lipi`
/// scheme and schwa rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    Devanagari,
    Bengali,
    Gurmukhi,
    Gujarati,
    Odia,
}

impl Script {
    fn of(c: char) -> Option<Script> {
        match c as u32 {
            0x0900..=0x097F | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF => Some(Script::Devanagari),
            0x0980..=0x09FF => Some(Script::Bengali),
            0x0A00..=0x0A7F => Some(Script::Gurmukhi),
            0x0A80..=0x0AFF => Some(Script::Gujarati),
            0x0B00..=0x0B7F => Some(Script::Odia),
            _ => None,
        }
    }

    fn schwa(self) -> Schwa {
        match self {
            Script::Devanagari | Script::Gurmukhi | Script::Gujarati => Schwa::Hindi,
            Script::Bengali | Script::Odia => Schwa::Final,
        }
    }

    /// The cached mapping from this script to IAST.
    fn mapping(self) -> &'static Mapping {
        static DEVANAGARI: OnceLock<Mapping> = OnceLock::new();
        static BENGALI: OnceLock<Mapping> = OnceLock::new();
        static GURMUKHI: OnceLock<Mapping> = OnceLock::new();
        static GUJARATI: OnceLock<Mapping> = OnceLock::new();
        static ODIA: OnceLock<Mapping> = OnceLock::new();
        let (cell, scheme) = match self {
            Script::Devanagari => (&DEVANAGARI, Scheme::Devanagari),
            Script::Bengali => (&BENGALI, Scheme::Bengali),
            Script::Gurmukhi => (&GURMUKHI, Scheme::Gurmukhi),
            Script::Gujarati => (&GUJARATI, Scheme::Gujarati),
            Script::Odia => (&ODIA, Scheme::Odia),
        };
        cell.get_or_init(|| Mapping::new(scheme, Scheme::Iast))
    }
}

/// Returns true if the text contains any letter of an Indic script.
pub fn has_indic(s: &str) -> bool {
    s.chars().any(|c| is_indic(c) && !is_indic_punctuation(c))
}

/// Returns true if the text contains a letter that only IAST-style romanisation uses
/// ("Śarmā", "Kṛṣṇa"), which is then spelled the popular way as well.
fn has_iast_letters(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(
            c,
            'ś' | 'Ś'
                | 'ṣ'
                | 'Ṣ'
                | 'ṛ'
                | 'Ṛ'
                | 'ṝ'
                | 'ḷ'
                | 'ṅ'
                | 'ñ'
                | 'ṭ'
                | 'Ṭ'
                | 'ḍ'
                | 'Ḍ'
                | 'ṇ'
                | 'ṃ'
                | 'ḥ'
        )
    })
}

/// Converts a name in any supported script into folded Latin: Indic runs are
/// transliterated and get schwa deletion, Latin runs written with IAST diacritics get
/// the popular spelling, and the whole result is folded by
/// [`fold`].
///
/// "रवि कुमार यादव" and "Ravi Kumar Yadav" both become "ravi kumar yadav"; Bengali
/// "রবি কুমার যাদব" becomes "rabi kumar yadab", which the variant keys of
/// [`super::variants`] then equate with the Hindi spelling.
pub fn to_latin(s: &str) -> String {
    if !has_indic(s) {
        if has_iast_letters(s) {
            let lower: String = s.nfc().flat_map(char::to_lowercase).collect();
            return fold(&iast_to_latin(&lower, Schwa::Keep));
        }
        return fold(s);
    }
    let mut out = String::with_capacity(s.len() * 2);
    let mut run = String::new();
    let mut run_script: Option<Script> = None;
    for c in s.chars() {
        if matches!(c, '\u{200C}' | '\u{200D}') {
            continue;
        }
        let script = if is_indic_punctuation(c) {
            None
        } else {
            Script::of(c)
        };
        if script != run_script {
            flush_run(&mut out, &run, run_script);
            run.clear();
            run_script = script;
        }
        run.push(c);
    }
    flush_run(&mut out, &run, run_script);
    fold(&out)
}

/// Appends one run of text of a single script to `out`, transliterated if Indic.
fn flush_run(out: &mut String, run: &str, script: Option<Script>) {
    if run.is_empty() {
        return;
    }
    match script {
        Some(script) => {
            let iast = transliterate(run, script.mapping());
            let iast: String = iast.nfc().collect();
            out.push_str(&iast_to_latin(&iast, script.schwa()));
        }
        None => {
            if has_iast_letters(run) {
                let lower: String = run.nfc().flat_map(char::to_lowercase).collect();
                out.push_str(&iast_to_latin(&lower, Schwa::Keep));
            } else {
                out.push_str(run);
            }
        }
    }
}

/// One sound of a word in IAST, with the popular Latin spelling it is rendered as.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Unit {
    /// A vowel; `short_a` marks the short "a" that may be the deletable inherent vowel.
    Vowel { text: &'static str, short_a: bool },
    /// A consonant.
    Consonant(&'static str),
    /// A consonant letter with no popular spelling of its own, kept as it is.
    Other(char),
    /// The nasal dot (anusvara) or the moon dot (candrabindu).
    Nasal,
}

impl Unit {
    fn is_vowel(&self) -> bool {
        matches!(self, Unit::Vowel { .. })
    }

    fn is_consonant(&self) -> bool {
        matches!(self, Unit::Consonant(_) | Unit::Other(_))
    }

    fn is_short_a(&self) -> bool {
        matches!(self, Unit::Vowel { short_a: true, .. })
    }

    fn is_sonorant(&self) -> bool {
        matches!(self, Unit::Consonant("y" | "r" | "l" | "v" | "n" | "m"))
    }
}

const COMBINING_DOUBLE_MACRON_BELOW: char = '\u{035F}';
const COMBINING_DIAERESIS_BELOW: char = '\u{0324}';
const COMBINING_CANDRABINDU: char = '\u{0310}';

/// Renders IAST text (lower case, NFC) in the popular Latin spelling, applying the given
/// schwa rule to every word. Characters that are not IAST letters are copied through
/// and separate words.
fn iast_to_latin(iast: &str, schwa: Schwa) -> String {
    let chars: Vec<char> = iast.chars().collect();
    let mut out = String::with_capacity(iast.len() + 8);
    let mut word: Vec<Unit> = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        let (unit, used) = match c {
            'a' => match next {
                Some('i') => (
                    Unit::Vowel {
                        text: "ai",
                        short_a: false,
                    },
                    2,
                ),
                Some('u') => (
                    Unit::Vowel {
                        text: "au",
                        short_a: false,
                    },
                    2,
                ),
                _ => (
                    Unit::Vowel {
                        text: "a",
                        short_a: true,
                    },
                    1,
                ),
            },
            'ā' => (vowel("a"), 1),
            'i' | 'ī' => (vowel("i"), 1),
            'u' | 'ū' => (vowel("u"), 1),
            'e' => (vowel("e"), 1),
            'o' => (vowel("o"), 1),
            'ṛ' | 'ṝ' => (vowel("ri"), 1),
            'ḷ' | 'ḹ' => (vowel("li"), 1),
            'ṃ' => (Unit::Nasal, 1),
            'm' if next == Some(COMBINING_CANDRABINDU) => (Unit::Nasal, 2),
            'ḥ' => (Unit::Consonant("h"), 1),
            'j' if next == Some('ñ') => {
                word.push(Unit::Consonant("g"));
                (Unit::Consonant("y"), 2)
            }
            _ => match consonant(c, next, chars.get(i + 2).copied()) {
                Some((text, used)) => (Unit::Consonant(text), used),
                None if c.is_alphabetic() => (Unit::Other(c), 1),
                None => {
                    render_word(&mut out, &mut word, schwa);
                    out.push(c);
                    i += 1;
                    continue;
                }
            },
        };
        word.push(unit);
        i += used;
    }
    render_word(&mut out, &mut word, schwa);
    out
}

fn vowel(text: &'static str) -> Unit {
    Unit::Vowel {
        text,
        short_a: false,
    }
}

/// Reads one IAST consonant starting with `c`, returning its popular spelling and how
/// many characters it used. Aspirates are a letter followed by "h"; the nukta letters
/// ख़ and ड़/ढ़ come out of `vidyut-lipi` with combining marks, which are consumed here.
fn consonant(c: char, next: Option<char>, after: Option<char>) -> Option<(&'static str, usize)> {
    let aspirated = next == Some('h');
    let pick = |plain: &'static str, aspirate: &'static str| {
        if aspirated {
            (aspirate, 2)
        } else {
            (plain, 1)
        }
    };
    Some(match c {
        'k' if next == Some(COMBINING_DOUBLE_MACRON_BELOW) => {
            if after == Some('h') {
                ("kh", 3)
            } else {
                ("kh", 2)
            }
        }
        'r' if next == Some(COMBINING_DIAERESIS_BELOW) => {
            if after == Some('h') {
                ("rh", 3)
            } else {
                ("r", 2)
            }
        }
        'k' => pick("k", "kh"),
        'g' => pick("g", "gh"),
        'c' => pick("ch", "chh"),
        'j' => pick("j", "jh"),
        'ṭ' | 't' => pick("t", "th"),
        'ḍ' | 'd' => pick("d", "dh"),
        'p' => pick("p", "ph"),
        'b' => pick("b", "bh"),
        'ġ' => ("gh", 1),
        'q' => ("q", 1),
        'z' => ("z", 1),
        'f' => ("f", 1),
        'ṅ' | 'ñ' | 'ṇ' | 'n' => ("n", 1),
        'm' => ("m", 1),
        'y' | 'ẏ' => ("y", 1),
        'r' => ("r", 1),
        'l' | 'ḻ' => ("l", 1),
        'v' | 'w' => ("v", 1),
        'ś' | 'ṣ' => ("sh", 1),
        's' => ("s", 1),
        'h' => ("h", 1),
        'x' => ("x", 1),
        _ => return None,
    })
}

/// Applies schwa deletion to one word and appends its rendering to `out`.
fn render_word(out: &mut String, word: &mut Vec<Unit>, schwa: Schwa) {
    if word.is_empty() {
        return;
    }
    if schwa != Schwa::Keep {
        delete_final_schwa(word);
    }
    if schwa == Schwa::Hindi {
        delete_medial_schwa(word);
    }
    for (i, unit) in word.iter().enumerate() {
        match unit {
            Unit::Vowel { text, .. } | Unit::Consonant(text) => out.push_str(text),
            Unit::Other(c) => out.push(*c),
            Unit::Nasal => {
                let labial = matches!(
                    word.get(i + 1),
                    Some(Unit::Consonant(next)) if next.starts_with(['p', 'b', 'm'])
                );
                out.push(if labial { 'm' } else { 'n' });
            }
        }
    }
    word.clear();
}

/// Drops a word-final inherent "a" after a consonant when the word has another vowel,
/// unless it follows a cluster whose last consonant is y, r, l, v, n or m.
fn delete_final_schwa(word: &mut Vec<Unit>) {
    let n = word.len();
    if n < 3 || !word.last().is_some_and(Unit::is_short_a) {
        return;
    }
    let Some(before) = word.get(n - 2) else {
        return;
    };
    if !before.is_consonant() {
        return;
    }
    if !word.iter().take(n - 2).any(Unit::is_vowel) {
        return;
    }
    let cluster = word.get(n - 3).is_some_and(Unit::is_consonant);
    if cluster && before.is_sonorant() {
        return;
    }
    word.pop();
}

/// Drops a medial inherent "a" in the context V C _ C V (a vowel, possibly nasalised,
/// then a single consonant before it; a single consonant then a vowel after it),
/// working from the right so that two neighbouring syllables never both lose theirs.
fn delete_medial_schwa(word: &mut Vec<Unit>) {
    let mut i = word.len().saturating_sub(2);
    while i >= 2 {
        if deletable_medial(word, i) {
            word.remove(i);
        }
        i -= 1;
    }
}

fn deletable_medial(word: &[Unit], i: usize) -> bool {
    let at = |k: usize| word.get(k);
    if !at(i).is_some_and(Unit::is_short_a) {
        return false;
    }
    let left_consonant = at(i - 1).is_some_and(Unit::is_consonant);
    let left_vowel = match at(i - 2) {
        Some(Unit::Nasal) => i >= 3 && at(i - 3).is_some_and(Unit::is_vowel),
        Some(unit) => unit.is_vowel(),
        None => false,
    };
    let right_consonant = at(i + 1).is_some_and(Unit::is_consonant);
    let right_vowel = at(i + 2).is_some_and(Unit::is_vowel);
    left_consonant && left_vowel && right_consonant && right_vowel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devanagari_names_come_out_in_popular_spelling() {
        let cases = [
            ("रवि कुमार यादव", "ravi kumar yadav"),
            ("सुनील मिंज", "sunil minj"),
            ("अजय चौधरी", "ajay chaudhri"),
            ("दिनेश महतो", "dinesh mahto"),
            ("सीता देवी", "sita devi"),
            ("लक्ष्मी", "lakshmi"),
            ("कृष्ण", "krishna"),
            ("संजय", "sanjay"),
            ("राजकुमार", "rajkumar"),
            ("जगदीश", "jagdish"),
            ("कमलेश", "kamlesh"),
            ("मिश्र", "mishra"),
            ("ज्ञान प्रकाश", "gyan prakash"),
            ("शेख़ ज़ाकिर", "shekh zakir"),
            ("फ़िरोज़ ख़ान", "firoz khan"),
            ("लकड़ा", "lakra"),
            ("सम्भव", "sambhav"),
            ("संभव", "sambhav"),
            ("आनंद", "anand"),
            ("धर्मेन्द्र", "dharmendra"),
            ("सूर्य", "surya"),
            ("नारायण", "narayan"),
            ("राम", "ram"),
            ("हँसराज", "hansraj"),
        ];
        for (input, expected) in cases {
            assert_eq!(to_latin(input), expected, "{input}");
        }
    }

    #[test]
    fn nukta_letters_in_either_normal_form() {
        // क़ as one code point (U+0958) and as क + nukta give the same result.
        assert_eq!(to_latin("\u{0958}ुरैशी"), to_latin("क\u{093C}ुरैशी"));
    }

    #[test]
    fn bengali_names_get_final_schwa_deletion() {
        assert_eq!(to_latin("রবি কুমার যাদব"), "rabi kumar yadab");
        assert_eq!(to_latin("সৌরভ"), "saurabh");
        assert_eq!(to_latin("বিকাশ বিশ্বাস"), "bikash bishbas");
    }

    #[test]
    fn latin_passes_through_and_iast_is_popularised() {
        assert_eq!(to_latin("Ravi KUMAR"), "ravi kumar");
        assert_eq!(to_latin("Śarmā"), "sharma");
        assert_eq!(to_latin("Kṛṣṇa"), "krishna");
        assert_eq!(to_latin("Ravi रवि"), "ravi ravi");
    }
}
