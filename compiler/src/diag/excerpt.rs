//! Long lines cut around the places a report points at, so that a mistake
//! on a line of 200,000 characters is drawn as a few dozen characters either
//! side of it, with `…` where text was left out.
//!
//! The excerpt is a small text of its own: the lines of the report and their
//! context, long ones cut. miette draws from it with the labels moved to it,
//! and with the line numbers and columns of the policy.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::ast::Span;
use crate::source::Source;

/// A line longer than this many bytes is cut.
const LONG_LINE: usize = 200;
/// Columns kept either side of each place a label starts or ends.
const AROUND: usize = 32;
const ELLIPSIS: &str = "…";

#[derive(Debug)]
pub(super) struct Excerpt {
    /// The excerpt's text, under the policy's name.
    text: Source,
    /// The policy line (0-based) the excerpt starts with.
    first_line: usize,
    /// Runs of policy text kept, in order: where each starts in the excerpt,
    /// where in the policy, and its length.
    kept: Vec<Kept>,
    /// Where in the policy each line of the excerpt starts.
    line_starts: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Kept {
    at: usize,
    from: usize,
    len: usize,
}

impl Excerpt {
    /// The excerpt for labels at `spans`, if one of the lines drawn is long.
    pub(super) fn cut(source: &Source, spans: &[Span]) -> Option<Excerpt> {
        let text = source.text();
        let ends = || spans.iter().flat_map(|s| [s.start.min(text.len()), s.end.min(text.len())]);
        let lines = ends().map(|at| source.line_of(at));
        let (low, high) = (lines.clone().min()?, lines.max()?);
        // One line of context either side, as miette draws.
        let last_line = source.line_of(text.len());
        let (first, last) = (low.saturating_sub(1).max(1), (high + 1).min(last_line));
        let line_range = |n: usize| {
            let start = source.line_start_of_line(n);
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            (start, end)
        };
        if (first..=last).all(|n| {
            let (start, end) = line_range(n);
            end - start <= LONG_LINE
        }) {
            return None;
        }
        let mut excerpt = String::new();
        let mut kept = Vec::new();
        let mut line_starts = Vec::new();
        for n in first..=last {
            let (start, end) = line_range(n);
            line_starts.push(start);
            let mut keep = |excerpt: &mut String, from: usize, to: usize| {
                kept.push(Kept { at: excerpt.len(), from, len: to - from });
                excerpt.push_str(&text[from..to]);
            };
            if end - start <= LONG_LINE {
                keep(&mut excerpt, start, end);
            } else {
                let pieces = pieces_of_line(text, start, end, ends().filter(|at| (start..=end).contains(at)));
                for (i, &(from, to)) in pieces.iter().enumerate() {
                    if from > start || i > 0 {
                        excerpt.push_str(ELLIPSIS);
                    }
                    keep(&mut excerpt, from, to);
                }
                if pieces.last().is_some_and(|&(_, to)| to < end) {
                    excerpt.push_str(ELLIPSIS);
                }
            }
            if end < text.len() {
                excerpt.push('\n');
            }
        }
        Some(Excerpt { text: Source::new(source.name(), &excerpt), first_line: first - 1, kept, line_starts })
    }

    /// Where policy byte `at` is in the excerpt: in the run kept around it,
    /// or at the nearest place kept after it.
    pub(super) fn position(&self, at: usize) -> usize {
        let i = self.kept.partition_point(|k| k.from + k.len < at);
        match self.kept.get(i) {
            Some(k) if at >= k.from => k.at + (at - k.from),
            Some(k) => k.at,
            None => self.text.text().len(),
        }
    }

    /// A policy span as a span of the excerpt.
    pub(super) fn span(&self, span: Span) -> Span {
        Span::new(self.position(span.start), self.position(span.end))
    }

    /// The policy byte at excerpt byte `at`, if it was kept.
    fn policy_offset(&self, at: usize) -> Option<usize> {
        let i = self.kept.partition_point(|k| k.at + k.len < at);
        self.kept.get(i).filter(|k| at >= k.at).map(|k| k.from + (at - k.at))
    }
}

/// The runs of a long line to keep: some text either side of every place
/// in `points`, runs that touch merged; the start of the line if no label
/// falls on it.
fn pieces_of_line(text: &str, start: usize, end: usize, points: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> =
        points.map(|p| (back(&text[start..p], AROUND) + start, p + ahead(&text[p..end], AROUND))).collect();
    if runs.is_empty() {
        runs.push((start, start + ahead(&text[start..end], 2 * AROUND)));
    }
    runs.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in runs {
        match merged.last_mut() {
            Some(last) if from <= last.1 + ELLIPSIS.len() => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// How many columns a character takes when drawn: miette draws a tab as
/// four spaces.
fn columns(c: char) -> usize {
    if c == '\t' {
        4
    } else {
        1
    }
}

/// Where the last `budget` columns of `text` start.
fn back(text: &str, budget: usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices().rev() {
        used += columns(c);
        if used > budget {
            return i + c.len_utf8();
        }
    }
    0
}

/// Where the first `budget` columns of `text` end.
fn ahead(text: &str, budget: usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += columns(c);
        if used > budget {
            return i;
        }
    }
    text.len()
}

impl SourceCode for Excerpt {
    /// The excerpt's lines, numbered as in the policy; the column of a span
    /// (given when no lines before it are asked for) is its column in the
    /// policy.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        let column = match self.policy_offset(span.offset()) {
            Some(at) if context_lines_before == 0 => {
                let line = self.text.line_of(span.offset()) - 1;
                at - self.line_starts[line]
            }
            _ => inner.column(),
        };
        let contents = MietteSpanContents::new_named(
            self.text.name().to_string(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count() + self.first_line,
        )
        .with_language("schedc");
        Ok(Box::new(contents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_need_no_excerpt() {
        let source = Source::new("t.policy", "a\nslice = 5ms + 1\nb\n");
        assert!(Excerpt::cut(&source, &[Span::new(10, 17)]).is_none());
    }

    #[test]
    fn a_long_line_is_cut_around_the_span_and_keeps_its_columns() {
        let long = format!("slice = {}5ms + 1{}", " ".repeat(100_000), " ".repeat(100_000));
        let text = format!("first\n{long}\nlast\n");
        let source = Source::new("t.policy", &text);
        let at = 6 + 8 + 100_000;
        let excerpt = Excerpt::cut(&source, &[Span::new(at, at + 7)]).expect("the line is long");
        let drawn = excerpt.text.text();
        assert!(drawn.len() < 4 * AROUND + 40, "{drawn:?}");
        assert_eq!(drawn.lines().collect::<Vec<_>>()[0], "first");
        assert!(drawn.lines().nth(1).is_some_and(|l| l.starts_with(ELLIPSIS) && l.ends_with(ELLIPSIS)), "{drawn:?}");
        let span = excerpt.span(Span::new(at, at + 7));
        assert_eq!(excerpt.text.slice(span), "5ms + 1");
        let read = excerpt.read_span(&(span.start, 7).into(), 0, 0).expect("readable");
        assert_eq!((read.line(), read.column()), (1, 8 + 100_000));
    }

    #[test]
    fn far_apart_places_on_one_line_keep_their_own_runs() {
        let text = format!("x{}y{}z", "a".repeat(10_000), "b".repeat(10_000));
        let source = Source::new("t.policy", &text);
        let excerpt = Excerpt::cut(&source, &[Span::new(0, 1), Span::new(10_001, 10_002)]).expect("long");
        assert_eq!(excerpt.text.text().matches(ELLIPSIS).count(), 2, "{}", excerpt.text.text());
        assert_eq!(excerpt.text.slice(excerpt.span(Span::new(10_001, 10_002))), "y");
    }
}
