//! Names split into prepared tokens: each token keeps the text as written and carries its
//! folded Latin form, variant key, phonetic codes and whether it is an initial, so that
//! comparing two prepared names needs no further allocation-heavy work.

use std::collections::HashMap;

use super::normalize::{is_apostrophe, is_indic, is_indic_punctuation};
use super::translit::{has_indic, to_latin};
use super::variants::{is_honorific, key, phonetic, short_form, spoken_letter};

/// At most this many tokens of a name are kept; the rest of an overlong text is
/// ignored, which bounds the work of parsing and matching whatever the input.
pub const MAX_TOKENS: usize = 16;

/// One token of a name, prepared for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The token as written, for explanations ("Raaju", "रवि", "Md.").
    pub original: String,
    /// Folded Latin form ("raaju", "ravi", "md"); a single letter for an initial.
    pub latin: String,
    /// Spelling-variant key (see [`super::variants::key`]); for a short form, the key of
    /// the name it stands for.
    pub key: String,
    /// Double Metaphone codes of the key (primary and alternate); empty for initials.
    pub phonetic: [String; 2],
    /// True if the token is an initial ("R.", "K", "आर.").
    pub initial: bool,
    /// True if the token was written in an Indic script.
    pub indic: bool,
    /// True if the token is a short form that was expanded ("Md", "Kr.").
    pub short_form: bool,
}

impl Token {
    /// Prepares one token from its folded Latin form.
    fn new(original: &str, latin: String, indic: bool, abbreviated: bool) -> Token {
        if let Some(full) = short_form(&latin, abbreviated) {
            return Token {
                original: original.to_string(),
                key: key(full),
                phonetic: phonetic(&key(full)),
                latin,
                initial: false,
                indic,
                short_form: true,
            };
        }
        let k = key(&latin);
        Token {
            original: original.to_string(),
            phonetic: phonetic(&k),
            key: k,
            latin,
            initial: false,
            indic,
            short_form: false,
        }
    }

    /// Prepares an initial.
    fn initial(original: &str, letter: char, indic: bool) -> Token {
        let latin = letter.to_string();
        Token {
            original: original.to_string(),
            key: key(&latin),
            latin,
            phonetic: [String::new(), String::new()],
            initial: true,
            indic,
            short_form: false,
        }
    }

    /// Prepares the concatenation of two adjacent tokens ("Ravi" + "Kumar" →
    /// "ravikumar"), used to match names written as one word or as two.
    fn joined(a: &Token, b: &Token, cache: Option<&mut ParseCache>) -> Token {
        let latin = format!("{}{}", a.latin, b.latin);
        let (k, codes) = match cache {
            Some(cache) => cache.pair(&latin),
            None => {
                let k = key(&latin);
                let codes = phonetic(&k);
                (k, codes)
            }
        };
        Token {
            original: format!("{} {}", a.original, b.original),
            phonetic: codes,
            key: k,
            latin,
            initial: false,
            indic: a.indic || b.indic,
            short_form: false,
        }
    }
}

/// The most entries a [`ParseCache`] keeps of each kind; it starts afresh beyond.
const CACHE_LIMIT: usize = 1 << 16;

/// Tokens and joined pairs already prepared, for parsing many names that share most of
/// their words (the candidates a search scores, the records of a rebuild): preparing a
/// word (transliteration, variant key, phonetic codes) costs microseconds, copying a
/// prepared one a fraction of that. [`Name::parse_with`] gives the same names as
/// [`Name::parse`].
#[derive(Debug, Default)]
pub(crate) struct ParseCache {
    /// A raw token (text and whether it was abbreviated) → its prepared tokens.
    tokens: HashMap<(String, bool), Vec<Token>>,
    /// The folded Latin form of a joined pair → its variant key and phonetic codes.
    pairs: HashMap<String, (String, [String; 2])>,
}

impl ParseCache {
    /// Appends the prepared tokens of `raw`, as [`push_tokens`] would.
    fn push_tokens(&mut self, tokens: &mut Vec<Token>, raw: &RawToken) {
        if let Some(prepared) = self.tokens.get(&(raw.text.clone(), raw.abbreviated)) {
            tokens.extend(prepared.iter().cloned());
            return;
        }
        let mut prepared = Vec::new();
        push_tokens(&mut prepared, raw);
        tokens.extend(prepared.iter().cloned());
        if self.tokens.len() >= CACHE_LIMIT {
            self.tokens.clear();
        }
        self.tokens
            .insert((raw.text.clone(), raw.abbreviated), prepared);
    }

    /// The variant key and phonetic codes of a joined pair's Latin form.
    fn pair(&mut self, latin: &str) -> (String, [String; 2]) {
        if let Some(found) = self.pairs.get(latin) {
            return found.clone();
        }
        let k = key(latin);
        let codes = phonetic(&k);
        if self.pairs.len() >= CACHE_LIMIT {
            self.pairs.clear();
        }
        self.pairs
            .insert(latin.to_string(), (k.clone(), codes.clone()));
        (k, codes)
    }
}

/// A name split into prepared tokens, in written order, with honorifics removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// The tokens of the name.
    pub tokens: Vec<Token>,
    /// Concatenations of adjacent non-initial tokens: `joined[i]` joins tokens `i` and
    /// `i + 1`, or is `None` when either is an initial.
    pub(crate) joined: Vec<Option<Token>>,
}

impl Name {
    /// Parses and prepares a name as written in any supported script: "R. K. Yadav",
    /// "Md. Salim Ansari", "रवि कुमार यादव", "Smt. Sita Devi".
    ///
    /// Dots mark abbreviations: a single letter, a token of two or three consonants
    /// ("RK"), or a written-out letter name in Indic script ("आर.") becomes initials,
    /// and short forms ("Md", "Kr.") are expanded. Honorifics ("Shri", "Smt", "Late")
    /// are dropped unless nothing else is left.
    pub fn parse(text: &str) -> Name {
        Name::parse_cached(text, None)
    }

    /// Like [`parse`](Self::parse), reusing and filling `cache`.
    pub(crate) fn parse_with(text: &str, cache: &mut ParseCache) -> Name {
        Name::parse_cached(text, Some(cache))
    }

    fn parse_cached(text: &str, mut cache: Option<&mut ParseCache>) -> Name {
        let mut tokens = Vec::new();
        for raw in raw_tokens(text) {
            // Honorifics are removed afterwards, so leave room for a few of them.
            if tokens.len() >= MAX_TOKENS + 4 {
                break;
            }
            match cache.as_deref_mut() {
                Some(cache) => cache.push_tokens(&mut tokens, &raw),
                None => push_tokens(&mut tokens, &raw),
            }
        }
        if tokens.iter().any(|t: &Token| !is_honorific(&t.latin)) {
            tokens.retain(|t| !is_honorific(&t.latin));
        }
        tokens.truncate(MAX_TOKENS);
        Name::from_tokens_cached(tokens, cache)
    }

    /// Builds a name from prepared tokens, computing the joined pairs (through `cache`
    /// if given).
    fn from_tokens_cached(tokens: Vec<Token>, mut cache: Option<&mut ParseCache>) -> Name {
        let joined = tokens
            .windows(2)
            .map(|pair| match pair {
                [a, b] if !a.initial && !b.initial => {
                    Some(Token::joined(a, b, cache.as_deref_mut()))
                }
                _ => None,
            })
            .collect();
        Name { tokens, joined }
    }

    /// True if the name has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The folded Latin form of the whole name ("ravi kumar yadav").
    pub fn latin(&self) -> String {
        let parts: Vec<&str> = self.tokens.iter().map(|t| t.latin.as_str()).collect();
        parts.join(" ")
    }
}

/// A token as written, before folding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawToken {
    /// The characters of the token, apostrophes removed.
    pub(crate) text: String,
    /// True if the token was followed by a dot or an abbreviation sign.
    pub(crate) abbreviated: bool,
}

/// Splits text into raw tokens at whitespace and punctuation. A dot, the Devanagari
/// abbreviation sign, or a Devanagari zero written right after a letter ("मो०") ends
/// the token and marks it as an abbreviation; apostrophes are removed.
pub(crate) fn raw_tokens(text: &str) -> Vec<RawToken> {
    let mut out = Vec::new();
    let mut current = String::new();
    let finish = |out: &mut Vec<RawToken>, current: &mut String, abbreviated: bool| {
        if !current.is_empty() {
            out.push(RawToken {
                text: std::mem::take(current),
                abbreviated,
            });
        }
    };
    for c in text.chars() {
        let after_indic_letter = current.chars().last().is_some_and(is_indic);
        let abbreviation = c == '.'
            || c == '\u{0970}'
            || (matches!(c, '\u{0966}' | '\u{09E6}') && after_indic_letter);
        if abbreviation {
            finish(&mut out, &mut current, true);
        } else if is_apostrophe(c) || matches!(c, '\u{200C}' | '\u{200D}') {
            continue;
        } else if c.is_alphanumeric()
            || (is_indic(c) && !is_indic_punctuation(c))
            || (unicode_normalization::char::is_combining_mark(c) && !current.is_empty())
        {
            current.push(c);
        } else {
            finish(&mut out, &mut current, false);
        }
    }
    finish(&mut out, &mut current, false);
    out
}

/// Prepares the tokens of one raw token and appends them.
fn push_tokens(tokens: &mut Vec<Token>, raw: &RawToken) {
    let indic = has_indic(&raw.text);
    let latin = to_latin(&raw.text);
    let words: Vec<&str> = latin.split(' ').filter(|w| !w.is_empty()).collect();
    let single = words.len() == 1;
    for word in words {
        let abbreviated = raw.abbreviated && single;
        let letters = word.chars().count();
        if letters == 1 {
            if let Some(letter) = word.chars().next().filter(|c| c.is_alphabetic()) {
                tokens.push(Token::initial(&raw.text, letter, indic));
                continue;
            }
        }
        if indic && abbreviated {
            if let Some(letter) = spoken_letter(word) {
                tokens.push(Token::initial(&raw.text, letter, indic));
                continue;
            }
        }
        if !indic && is_initials_cluster(word, &raw.text, abbreviated) {
            for (letter, original) in word.chars().zip(raw.text.chars()) {
                tokens.push(Token::initial(&original.to_string(), letter, false));
            }
            continue;
        }
        tokens.push(Token::new(&raw.text, word.to_string(), indic, abbreviated));
    }
}

/// True for a run of two consonant letters, or three written in capitals, that is not a
/// known short form or honorific ("RK", "SKM"; "S.K." is already split at the dots),
/// read as initials. Three consonants not all in capitals are a word with a vowel
/// dropped ("Nth" for "Nath").
fn is_initials_cluster(word: &str, original: &str, abbreviated: bool) -> bool {
    let n = word.len();
    let capitals = original.chars().all(|c| c.is_ascii_uppercase());
    (n == 2 || (n == 3 && capitals))
        && word.len() == original.len()
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() && !b"aeiouy".contains(&b))
        && short_form(word, abbreviated).is_none()
        && !is_honorific(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latins(name: &Name) -> Vec<(&str, bool)> {
        name.tokens
            .iter()
            .map(|t| (t.latin.as_str(), t.initial))
            .collect()
    }

    #[test]
    fn splits_initials_and_abbreviations() {
        let name = Name::parse("R. K. Yadav");
        assert_eq!(latins(&name), [("r", true), ("k", true), ("yadav", false)]);
        let name = Name::parse("R.K.Yadav");
        assert_eq!(latins(&name), [("r", true), ("k", true), ("yadav", false)]);
        let name = Name::parse("RK Yadav");
        assert_eq!(latins(&name), [("r", true), ("k", true), ("yadav", false)]);
        let name = Name::parse("SKM Yadav");
        assert_eq!(latins(&name).len(), 4);
        let name = Name::parse("Lalit Nth Choudhury");
        assert_eq!(latins(&name)[1], ("nth", false));
        let name = Name::parse("आर. के. यादव");
        assert_eq!(latins(&name), [("r", true), ("k", true), ("yadav", false)]);
    }

    #[test]
    fn expands_short_forms_and_drops_honorifics() {
        let name = Name::parse("Shri Md. Salim");
        assert_eq!(name.tokens.len(), 2);
        assert!(name.tokens[0].short_form);
        assert_eq!(name.tokens[0].key, key("mohammad"));
        let name = Name::parse("मो० सलीम");
        assert!(name.tokens[0].short_form);
        assert_eq!(Name::parse("Smt").tokens.len(), 1);
        assert!(Name::parse("  ").is_empty());
    }

    #[test]
    fn overlong_text_is_cut_to_the_token_limit() {
        let name = Name::parse(&"Ravi ".repeat(2000));
        assert_eq!(name.tokens.len(), MAX_TOKENS);
        assert_eq!(name.joined.len(), MAX_TOKENS - 1);
    }

    #[test]
    fn joins_adjacent_tokens() {
        let name = Name::parse("Ravi Kumar Yadav");
        assert_eq!(name.joined.len(), 2);
        assert_eq!(
            name.joined[0].as_ref().map(|t| t.latin.as_str()),
            Some("ravikumar")
        );
        let name = Name::parse("R. Yadav");
        assert_eq!(name.joined, vec![None]);
    }

    #[test]
    fn cached_parses_are_the_same() {
        let mut cache = ParseCache::default();
        for text in [
            "Ravi Kumar Yadav",
            "R. K. Yadav",
            "Shri Md. Salim",
            "मो० सलीम",
            "रवि कुमार यादव",
            "Lalit Nth Choudhury",
            "Ravi Kumar Yadav",
            "SKM Yadav",
            "Md Salim",
        ] {
            assert_eq!(
                Name::parse_with(text, &mut cache),
                Name::parse(text),
                "{text}"
            );
        }
    }

    #[test]
    fn devanagari_tokens_are_marked() {
        let name = Name::parse("रवि Yadav");
        assert!(name.tokens[0].indic);
        assert!(!name.tokens[1].indic);
        assert_eq!(name.latin(), "ravi yadav");
    }
}
