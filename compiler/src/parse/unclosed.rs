//! A block whose `}` is missing. The parser notices only later, where the
//! next item (taken for a statement or a route) or the end of the file does
//! not fit; the mistake is the `{` left open, so that is where the report
//! points.

use super::ITEM_KEYWORDS;
use crate::ast::Span;
use crate::diag::{Code, Diagnostic};

/// The `{` the item at `item_start` left open, if the parser, stopped at
/// `at`, ran into the next item or into the end of the file (`wants_brace`:
/// where a `}` would have done).
pub(super) fn unclosed_block(src: &str, item_start: usize, at: usize, wants_brace: bool) -> Option<Diagnostic> {
    let end = at.min(src.len());
    let bytes = src.as_bytes();
    let mut open = Vec::new();
    let mut i = item_start;
    while i < end {
        match bytes[i] {
            // Strings and comments end at the end of their line at the latest,
            // which is then looked at like any other.
            b'"' => {
                let stop = src[i + 1..].find(['"', '\n']).map_or(src.len(), |n| i + 1 + n);
                i = if bytes.get(stop) == Some(&b'"') { stop + 1 } else { stop };
                continue;
            }
            b'#' => {
                i = src[i..].find('\n').map_or(src.len(), |n| i + n);
                continue;
            }
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            b'\n' => {
                if let (Some(&brace), Some(keyword)) = (open.last(), item_keyword_at(&src[i + 1..])) {
                    let start = i + 1;
                    return Some(unclosed(brace).related(
                        Span::new(start, start + keyword.len()),
                        format!("the next item, `{keyword}`, starts here, inside the block"),
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    let brace = *open.last()?;
    if at < src.len() || !wants_brace {
        return None;
    }
    let last = super::builder::without_trailing_trivia(src);
    let last_char = last.chars().next_back().map_or(0, char::len_utf8);
    Some(unclosed(brace).related(Span::new(last.len() - last_char, last.len()), "the file ends here"))
}

/// An item keyword in the first column, followed by a space: a line that
/// starts an item, not a statement such as `task.x = 1`.
fn item_keyword_at(line: &str) -> Option<&'static str> {
    ITEM_KEYWORDS.iter().copied().find(|k| line.strip_prefix(k).is_some_and(|rest| rest.starts_with([' ', '\t'])))
}

fn unclosed(brace: usize) -> Diagnostic {
    Diagnostic::new(Code::Syntax, Span::new(brace, brace + 1), "this `{` is never closed")
        .label("opened here")
        .help("close the block with `}` where it ends")
}
