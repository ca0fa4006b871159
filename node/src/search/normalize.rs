//! Folding of free text into a comparable form: case, punctuation and diacritics are
//! folded and whitespace is collapsed, while Indic script is left for the
//! transliterator in [`super::translit`].

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Returns true for characters of the Indic script blocks (Devanagari to Sinhala, plus
/// the Vedic and Devanagari extension blocks), which `fold` passes through untouched.
pub fn is_indic(c: char) -> bool {
    matches!(c as u32, 0x0900..=0x0DFF | 0x1CD0..=0x1CFF | 0xA8E0..=0xA8FF)
}

/// Returns true for the Indic punctuation that separates words or sentences: the danda,
/// the double danda and the Devanagari abbreviation sign.
pub fn is_indic_punctuation(c: char) -> bool {
    matches!(c, '\u{0964}' | '\u{0965}' | '\u{0970}')
}

/// Returns true for apostrophes, which are removed inside a word ("D'Souza" becomes
/// "dsouza") rather than splitting it.
pub fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}' | '\u{2019}' | '`' | '\u{00B4}' | '\u{02BC}'
    )
}

/// Returns true for zero-width joiners and other invisible format characters, which are
/// dropped.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Folds text for comparison: lower case, compatibility decomposition (NFKD) with the
/// combining marks of non-Indic letters removed ("Kumār" becomes "kumar"), apostrophes
/// dropped, every other non-alphanumeric character turned into a space, and runs of
/// whitespace collapsed to one space with none at either end.
///
/// Indic letters, including their vowel signs, pass through unchanged so that the
/// transliterator still sees them intact; only the danda and the abbreviation sign are
/// treated as punctuation.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let push = |out: &mut String, c: char, space: &mut bool| {
        if *space && !out.is_empty() {
            out.push(' ');
        }
        *space = false;
        out.push(c);
    };
    for c in s.chars() {
        if is_indic(c) {
            if is_indic_punctuation(c) {
                space = true;
            } else {
                push(&mut out, c, &mut space);
            }
            continue;
        }
        if is_apostrophe(c) || is_invisible(c) {
            continue;
        }
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                push(&mut out, c.to_ascii_lowercase(), &mut space);
            } else {
                space = true;
            }
            continue;
        }
        decompose_compatible(c, |d| {
            if is_combining_mark(d) {
                return;
            }
            if let Some(special) = fold_special(d) {
                for s in special.chars() {
                    push(&mut out, s, &mut space);
                }
                return;
            }
            for l in d.to_lowercase() {
                if l.is_alphanumeric() {
                    push(&mut out, l, &mut space);
                } else {
                    space = true;
                }
            }
        });
    }
    out
}

/// Latin letters that have no decomposition but a usual ASCII spelling.
fn fold_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ł' | 'Ł' => "l",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ı' => "i",
        'þ' | 'Þ' => "th",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_punctuation_and_diacritics() {
        assert_eq!(fold("  RAVI-Kumār   YĀDAV. "), "ravi kumar yadav");
        assert_eq!(fold("D'Souza, Francis"), "dsouza francis");
        assert_eq!(fold("R.K.Yadav"), "r k yadav");
        assert_eq!(fold("Śarmā"), "sarma");
        assert_eq!(fold("ﬁroz"), "firoz");
        assert_eq!(fold(""), "");
        assert_eq!(fold("..."), "");
    }

    #[test]
    fn keeps_indic_letters_and_their_signs() {
        assert_eq!(fold("रवि  कुमार।"), "रवि कुमार");
        assert_eq!(fold("Ravi\u{200D}रवि"), "raviरवि");
    }
}
