//! A reaction: one emoji, as a single grapheme cluster of the sequences Unicode defines for
//! emoji, so a reaction can never carry text, a control character or two emoji at once.

use std::fmt;

use super::{invalid, InvalidValue};

/// One emoji: a pictograph (with its presentation selector, a skin tone, or further pictographs
/// joined by U+200D), a flag of two regional indicators or of tags, or a keycap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Emoji(String);

impl Emoji {
    /// The most bytes one reaction may take: enough for flags of tags and families of four,
    /// while a reaction stays a small, bounded part of every message that carries it.
    pub const MAX_BYTES: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > Self::MAX_BYTES {
            return Err(invalid(format!(
                "emoji must be one emoji of 1 to {} bytes",
                Self::MAX_BYTES
            )));
        }
        if !is_one_emoji(raw) {
            return Err(invalid("emoji must be exactly one emoji, such as 👍"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const VARIATION_SELECTOR: char = '\u{FE0F}';
const JOINER: char = '\u{200D}';
const KEYCAP: char = '\u{20E3}';

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007E}').contains(&c)
}

/// Extended_Pictographic, by its blocks: close enough to refuse text, wide enough to take every
/// emoji of Unicode 16.
fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}' | '\u{25AA}'..='\u{25FE}'
        | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}' | '\u{2B05}'..='\u{2B55}'
        | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}' | '\u{1F000}'..='\u{1F1E5}'
        | '\u{1F200}'..='\u{1F3FA}' | '\u{1F400}'..='\u{1FAFF}')
}

fn is_one_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        [a, b] if is_regional_indicator(*a) && is_regional_indicator(*b) => true,
        [key, VARIATION_SELECTOR, KEYCAP] if key.is_ascii_digit() || matches!(key, '#' | '*') => {
            true
        }
        ['\u{1F3F4}', tags @ .., '\u{E007F}'] if !tags.is_empty() => {
            tags.iter().all(|c| is_tag(*c))
        }
        _ => chars.split(|c| *c == JOINER).all(is_pictograph_element),
    }
}

/// One pictograph of a ZWJ sequence, with what may follow it.
fn is_pictograph_element(part: &[char]) -> bool {
    match part {
        [p] => is_pictograph(*p),
        [p, VARIATION_SELECTOR] => is_pictograph(*p),
        [p, tone] => is_pictograph(*p) && is_skin_tone(*tone),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_emoji_of_every_kind_are_reactions() {
        for emoji in ["👍", "❤️", "🎉", "👍🏽", "🇫🇷", "1️⃣", "👩‍💻", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🫠"]
        {
            assert_eq!(Emoji::parse(emoji).unwrap().as_str(), emoji);
        }
    }

    #[test]
    fn text_several_emoji_and_oversized_sequences_are_refused() {
        let too_long = "👨‍👩‍👧‍👦".repeat(2);
        for refused in [
            "",
            "a",
            "ok",
            "👍👍",
            " 👍",
            "👍 ",
            "\u{0}",
            "\u{202E}👍",
            "🇫",
            "1",
            "#",
            "‍👍",
            "👍‍",
            &too_long,
        ] {
            assert!(Emoji::parse(refused).is_err(), "{refused:?}");
        }
    }
}
