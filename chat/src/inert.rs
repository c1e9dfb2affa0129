//! Stored text printed for an operator is shown, never obeyed: a message or name written before
//! the server refused control characters (or written to the store by other means) could hold
//! terminal escape sequences that rewrite the screen, set the window title or worse, or bidi
//! controls that reorder what the operator reads.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1), bidi control and backslash written as an
/// escape (`\n`, `\t`, `\\`, `\u{1b}`), so that printing it cannot drive the terminal.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            other if needs_escape(other) => {
                write!(escaped, "\\u{{{:x}}}", u32::from(other)).expect("writing to a String")
            }
            other => escaped.push(other),
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(character: char) -> bool {
    character == '\\'
        || character.is_control()
        || matches!(
            character,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_controls_are_shown_not_obeyed() {
        assert_eq!(
            inert("\u{1b}]0;pwned\u{7}\u{1b}[2J hi"),
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J hi"
        );
        assert_eq!(inert("a\u{9b}31m b\u{7f}"), "a\\u{9b}31m b\\u{7f}");
        assert_eq!(inert("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(inert("two\nlines\tand\\"), "two\\nlines\\tand\\\\");
    }

    #[test]
    fn ordinary_text_is_left_alone_whatever_its_script() {
        for text in ["hello", "héllo wörld", "日本語 😀", ""] {
            assert!(matches!(inert(text), Cow::Borrowed(_)), "{text}");
        }
    }
}
