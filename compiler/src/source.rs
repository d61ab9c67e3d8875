//! The policy being compiled: its file name, its text and where its lines
//! start. The line index is built once and serves the checker (the line of
//! each origin), lowering (the policy line quoted in each C comment) and the
//! diagnostics (miette draws from it).

use miette::{MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

use crate::ast::Span;

#[derive(Debug)]
pub struct Source {
    /// The text under its file name, as miette draws it.
    named: NamedSource<String>,
    /// The byte offset where each line starts; the first is 0.
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(name: &str, text: &str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Source { named: NamedSource::new(name, text.to_string()).with_language("schedc"), line_starts }
    }

    /// The file name as given, e.g. `policies/bpfland.policy`.
    pub fn name(&self) -> &str {
        self.named.name()
    }

    pub fn text(&self) -> &str {
        self.named.inner()
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        &self.text()[span.start..span.end]
    }

    /// The line (counted from 1) that holds byte `at`.
    pub fn line_of(&self, at: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= at)
    }

    /// The byte offset where the line holding byte `at` starts.
    pub fn line_start_of(&self, at: usize) -> usize {
        self.line_starts[self.line_of(at) - 1]
    }

    /// The byte offset where line `number` (counted from 1) starts; the end
    /// of the text past the last line.
    pub fn line_start_of_line(&self, number: usize) -> usize {
        number.checked_sub(1).and_then(|i| self.line_starts.get(i)).copied().unwrap_or(self.text().len())
    }

    /// Line and column (both counted from 1, the column in characters) of
    /// byte `at`, clamped to the end of the text. A byte inside a character
    /// counts its column in bytes.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text().len());
        let start = self.line_start_of(at);
        let column = self.text().get(start..at).map_or(at - start, |s| s.chars().count());
        (self.line_of(at), column + 1)
    }

    /// 0-based line and 0-based column in UTF-16 code units, as the
    /// language server protocol counts them; past the end means the end, and
    /// a byte inside a character means that character.
    pub fn utf16_position(&self, at: usize) -> (u32, u32) {
        let mut at = at.min(self.text().len());
        while !self.text().is_char_boundary(at) {
            at -= 1;
        }
        let start = self.line_start_of(at);
        let column = self.text()[start..at].encode_utf16().count();
        (to_u32(self.line_of(at) - 1), to_u32(column))
    }

    /// The byte offset of a 0-based line and UTF-16 column (the inverse of
    /// [`Self::utf16_position`]). A column past the end of its line means the
    /// end of the line, a line past the end the end of the text.
    pub fn offset_of_utf16(&self, line: u32, column: u32) -> usize {
        let Some(&start) = self.line_starts.get(line as usize) else { return self.text().len() };
        let end = self.line_starts.get(line as usize + 1).map_or(self.text().len(), |next| next - 1);
        let mut units = 0;
        for (i, c) in self.text()[start..end].char_indices() {
            if units >= column as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// Line `number` (counted from 1) without its line break; empty when
    /// there is no such line.
    pub fn line(&self, number: usize) -> &str {
        let Some(&start) = number.checked_sub(1).and_then(|i| self.line_starts.get(i)) else { return "" };
        let end = self.line_starts.get(number).map_or(self.text().len(), |next| next - 1);
        let line = &self.text()[start..end];
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// Line `number` up to its comment: a `#` starts a comment unless it is
    /// inside a string (strings do not span lines).
    pub fn line_without_comment(&self, number: usize) -> &str {
        let line = self.line(number);
        let mut in_string = false;
        for (i, c) in line.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '#' if !in_string => return &line[..i],
                _ => {}
            }
        }
        line
    }
}

impl SourceCode for Source {
    /// What miette reads to draw a snippet: the lines of `span` and of its
    /// context. miette's own reader scans the text from its start on every
    /// call; this one starts at the first line it needs, found in the line
    /// index, so drawing a report costs the lines it shows.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let len = self.text().len();
        let start = span.offset().min(len);
        let last_byte = (span.offset() + span.len()).saturating_sub(1).clamp(start, len);
        // 0-based lines: the first one read, and the first one past the window
        // (one more than miette needs, so its reader sees where the last ends).
        let first = (self.line_of(start) - 1).saturating_sub(context_lines_before);
        let past = self.line_of(last_byte) + context_lines_after + 1;
        let from = self.line_starts[first];
        let to = self.line_starts.get(past).copied().unwrap_or(len);
        let window = &self.text().as_bytes()[from..to];
        let inner = window.read_span(
            &SourceSpan::new((span.offset() - from).into(), span.len()),
            context_lines_before,
            context_lines_after,
        )?;
        let read = SourceSpan::new((inner.span().offset() + from).into(), inner.span().len());
        let contents = MietteSpanContents::new_named(
            self.name().to_string(),
            inner.data(),
            read,
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )
        .with_language("schedc");
        Ok(Box::new(contents))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn lines_are_counted_from_one_and_lose_their_line_break() {
        let source = Source::new("t.policy", "first\r\nsecond\n\nlast");
        assert_eq!([source.line(1), source.line(2), source.line(3), source.line(4)], ["first", "second", "", "last"]);
        assert_eq!([source.line(0), source.line(5)], ["", ""]);
        assert_eq!([source.line_of(0), source.line_of(6), source.line_of(7), source.line_of(15)], [1, 1, 2, 4]);
        assert_eq!(source.line_start_of(10), 7);
    }

    #[test]
    fn columns_count_characters() {
        let source = Source::new("t.policy", "a\nµs x");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(5), (2, 3));
        // Inside the two bytes of `µ`: counted in bytes.
        assert_eq!(source.line_col(3), (2, 2));
        assert_eq!(source.line_col(100), (2, 5));
    }

    #[test]
    fn comments_end_lines_but_not_strings() {
        let source =
            Source::new("t.policy", "queue q shared fifo # arrival order\ntrace \"queue #1\", x # why\nno comment");
        assert_eq!(source.line_without_comment(1), "queue q shared fifo ");
        assert_eq!(source.line_without_comment(2), "trace \"queue #1\", x ");
        assert_eq!(source.line_without_comment(3), "no comment");
    }
}
