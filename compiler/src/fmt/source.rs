//! What the syntax tree leaves out of the source: comments, white space and
//! parentheses. The grammar drops them, so the formatter finds them again by
//! scanning the text once.

use std::collections::HashMap;

/// A `# ...` comment, up to the end of its line.
#[derive(Debug, Clone)]
pub(super) struct Comment {
    pub start: usize,
    /// Its text, from `#`, without trailing white space.
    pub text: String,
    /// Whether code stands before it on its line.
    pub trailing: bool,
}

/// The source with its trivia located.
pub(super) struct Source<'s> {
    pub text: &'s str,
    /// Byte offsets where lines start.
    line_starts: Vec<usize>,
    /// For each byte, whether it is white space or part of a comment.
    trivia: Vec<bool>,
    pub comments: Vec<Comment>,
    /// The matching `)` of each `(`, outside strings and comments.
    closing_paren: HashMap<usize, usize>,
}

impl<'s> Source<'s> {
    pub fn scan(text: &'s str) -> Self {
        let bytes = text.as_bytes();
        let mut trivia = vec![false; bytes.len()];
        let mut comments = Vec::new();
        let mut closing_paren = HashMap::new();
        let mut open_parens = Vec::new();
        let mut code_on_line = false;
        let mut at = 0;
        while at < bytes.len() {
            match bytes[at] {
                b'\n' => {
                    trivia[at] = true;
                    code_on_line = false;
                }
                b' ' | b'\t' | b'\r' => trivia[at] = true,
                b'#' => {
                    let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                    trivia[at..end].fill(true);
                    let body = text[at..end].trim_end().to_string();
                    comments.push(Comment { start: at, text: body, trailing: code_on_line });
                    at = end;
                    continue;
                }
                b'"' => {
                    // Strings end at their closing quote or, unclosed, at the line's end.
                    let rest = &text[at + 1..];
                    let len =
                        rest.find(['"', '\n']).map_or(rest.len(), |n| n + usize::from(rest.as_bytes()[n] == b'"'));
                    at += 1 + len;
                    code_on_line = true;
                    continue;
                }
                b'(' => {
                    open_parens.push(at);
                    code_on_line = true;
                }
                b')' => {
                    if let Some(open) = open_parens.pop() {
                        closing_paren.insert(open, at);
                    }
                    code_on_line = true;
                }
                _ => code_on_line = true,
            }
            at += 1;
        }
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { text, line_starts, trivia, comments, closing_paren }
    }

    /// The 0-based line of a byte offset.
    pub fn line(&self, at: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= at) - 1
    }

    /// Whether the line holds nothing but white space.
    pub fn is_blank_line(&self, line: usize) -> bool {
        let start = self.line_starts[line];
        let end = self.line_starts.get(line + 1).map_or(self.text.len(), |&e| e);
        self.text[start..end].trim().is_empty()
    }

    /// The first byte at or after `at` that is not trivia.
    pub fn next_code(&self, mut at: usize) -> usize {
        while at < self.trivia.len() && self.trivia[at] {
            at += 1;
        }
        at
    }

    /// The last byte before `at` that is not trivia.
    pub fn previous_code(&self, at: usize) -> Option<usize> {
        (0..at).rev().find(|&i| !self.trivia[i])
    }

    /// The first `byte` at or after `at` in code (not in a comment). The
    /// callers look for braces, which cannot occur in strings between the
    /// places they start from and the brace they want.
    pub fn find(&self, mut at: usize, byte: u8) -> usize {
        let bytes = self.text.as_bytes();
        while at < bytes.len() && (self.trivia[at] || bytes[at] != byte) {
            at += 1;
        }
        at
    }

    /// Whether the text from `start` to `end` stands alone between a pair of
    /// parentheses, other than the pair opening at `except` (a call's own).
    pub fn parenthesized(&self, start: usize, end: usize, except: Option<usize>) -> bool {
        let Some(open) = self.previous_code(start) else { return false };
        if self.text.as_bytes()[open] != b'(' || Some(open) == except {
            return false;
        }
        self.closing_paren.get(&open) == Some(&self.next_code(end))
    }
}
