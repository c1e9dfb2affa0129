//! A search result's snippet: plain text around the match, and where in it the matched words
//! are, taken from `ts_headline`'s output.
//!
//! `ts_headline` marks the words it matched with strings of our choosing; we choose U+0001 and
//! U+0002, and it reads the message through `message_search_text` (migration `0085`), which
//! writes `<` and `>` as U+0003 and U+0004 and any stored control character that could pass
//! for one of these four as a space. So every marker here is one `ts_headline` wrote, never one
//! typed into a message, and the snippet comes back with the message's own `<` and `>`.

use serde::Serialize;

const START: char = '\u{1}';
const STOP: char = '\u{2}';
const LESS_THAN: char = '\u{3}';
const GREATER_THAN: char = '\u{4}';

/// The longest snippet, in characters: `ts_headline` cuts at words, and one word may be long.
pub(crate) const MAX_SNIPPET_CHARS: usize = 300;
/// How much of the text before the first match a shortened snippet keeps.
const CONTEXT_BEFORE: usize = 80;

/// A matched word's place in the snippet: `[start, end)` in Unicode scalar values (Rust's
/// `char`, JavaScript's code points; not UTF-16 units, not bytes).
pub(crate) type Highlight = [usize; 2];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Snippet {
    pub(crate) text: String,
    pub(crate) highlights: Vec<Highlight>,
}

impl Snippet {
    /// Reads a headline written with our markers.
    pub(crate) fn from_headline(headline: &str) -> Self {
        let mut chars = Vec::with_capacity(headline.len());
        let mut highlights = Vec::new();
        let mut open = None;
        for c in headline.chars() {
            match c {
                START => open = Some(chars.len()),
                STOP => {
                    if let Some(start) = open.take() {
                        if start < chars.len() {
                            highlights.push([start, chars.len()]);
                        }
                    }
                }
                LESS_THAN => chars.push('<'),
                GREATER_THAN => chars.push('>'),
                c => chars.push(c),
            }
        }
        trimmed(&chars, &highlights)
    }
}

/// The snippet without surrounding white space and at most [`MAX_SNIPPET_CHARS`] long, keeping
/// some text before the first match; highlights cut by the window are cut with it.
fn trimmed(chars: &[char], highlights: &[Highlight]) -> Snippet {
    let first_kept = chars.iter().position(|c| !c.is_whitespace()).unwrap_or(0);
    let end = chars
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(first_kept, |last| last + 1);
    let mut start = first_kept;
    if end - start > MAX_SNIPPET_CHARS {
        let first_match = highlights.first().map_or(start, |h| h[0]);
        start = first_match
            .saturating_sub(CONTEXT_BEFORE)
            .clamp(start, end - MAX_SNIPPET_CHARS);
    }
    let end = end.min(start + MAX_SNIPPET_CHARS);
    let highlights = highlights
        .iter()
        .filter(|h| h[0] < end && h[1] > start)
        .map(|h| [h[0].max(start) - start, h[1].min(end) - start])
        .collect();
    Snippet {
        text: chars[start..end].iter().collect(),
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(headline: &str) -> String {
        headline
            .replace('[', &START.to_string())
            .replace(']', &STOP.to_string())
    }

    fn highlighted(snippet: &Snippet) -> Vec<String> {
        let chars: Vec<char> = snippet.text.chars().collect();
        snippet
            .highlights
            .iter()
            .map(|[start, end]| chars[*start..*end].iter().collect())
            .collect()
    }

    #[test]
    fn markers_become_ranges_of_the_plain_text() {
        let snippet = Snippet::from_headline(&marked("the [quick] [brown] fox"));
        assert_eq!(snippet.text, "the quick brown fox");
        assert_eq!(snippet.highlights, vec![[4, 9], [10, 15]]);
    }

    #[test]
    fn offsets_count_characters_not_bytes_nor_utf16_units() {
        let snippet = Snippet::from_headline(&marked("😀 日本 [café] [テスト]"));
        assert_eq!(highlighted(&snippet), ["café", "テスト"]);
        assert_eq!(snippet.highlights, vec![[5, 9], [10, 13]]);
    }

    #[test]
    fn angle_brackets_come_back_as_typed_and_are_never_markup() {
        let headline = format!("{LESS_THAN}b{GREATER_THAN}[bold]{LESS_THAN}/b{GREATER_THAN}");
        let snippet = Snippet::from_headline(&marked(&headline));
        assert_eq!(snippet.text, "<b>bold</b>");
        assert_eq!(highlighted(&snippet), ["bold"]);
    }

    #[test]
    fn surrounding_white_space_is_trimmed_and_offsets_follow() {
        let snippet = Snippet::from_headline(&marked("  \n [needle] here \t"));
        assert_eq!(snippet.text, "needle here");
        assert_eq!(snippet.highlights, vec![[0, 6]]);
    }

    #[test]
    fn unbalanced_or_empty_markers_mark_nothing() {
        let snippet = Snippet::from_headline(&marked("a ] b [] c [d"));
        assert_eq!(snippet.text, "a  b  c d");
        assert!(snippet.highlights.is_empty());
    }

    #[test]
    fn a_long_headline_is_cut_around_its_first_match() {
        let long_word = "x".repeat(1000);
        let snippet = Snippet::from_headline(&marked(&format!("{long_word} [needle] {long_word}")));
        assert_eq!(snippet.text.chars().count(), MAX_SNIPPET_CHARS);
        assert_eq!(highlighted(&snippet), ["needle"]);
        assert_eq!(snippet.highlights[0][0], CONTEXT_BEFORE);
    }

    #[test]
    fn a_match_cut_by_the_window_is_cut_with_it() {
        let long_word = "y".repeat(400);
        let snippet = Snippet::from_headline(&marked(&format!("[{long_word}] [tail]")));
        assert_eq!(snippet.highlights, vec![[0, MAX_SNIPPET_CHARS]]);
    }

    #[test]
    fn a_headline_of_white_space_is_an_empty_snippet() {
        let snippet = Snippet::from_headline("   ");
        assert_eq!(snippet.text, "");
        assert!(snippet.highlights.is_empty());
    }
}
