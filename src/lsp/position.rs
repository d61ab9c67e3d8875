//! Byte offsets (the compiler's spans) to LSP positions and back. LSP counts
//! columns in UTF-16 code units, so a comment or string with `é` (one unit,
//! two bytes) or `𝄞` (two units, four bytes) shifts the two apart; the
//! policy's [`Source`] does the counting.

use lsp_types::{Position, Range};
use schedc_compiler::ast::Span;
use schedc_compiler::source::Source;

/// The position of a byte offset; past the end means the end.
pub fn position(source: &Source, offset: usize) -> Position {
    let (line, character) = source.utf16_position(offset);
    Position::new(line, character)
}

pub fn range(source: &Source, span: Span) -> Range {
    Range::new(position(source, span.start), position(source, span.end))
}

/// The byte offset of a position. A column past the end of its line means
/// the end of the line, a line past the end the end of the text, as the
/// protocol asks.
pub fn offset(source: &Source, at: Position) -> usize {
    source.offset_of_utf16(at.line, at.character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let source = Source::new("t.policy", "ab\n# é𝄞 x\nlast");
        let x = source.text().find('x').unwrap();
        // `# ` is 2 units, `é` 1, `𝄞` 2, the space 1: x is at unit 6 (byte 9).
        assert_eq!(position(&source, x), Position::new(1, 6));
        assert_eq!(offset(&source, Position::new(1, 6)), x);
        assert_eq!(position(&source, source.text().len()), Position::new(2, 4));
    }

    #[test]
    fn every_char_boundary_round_trips() {
        let source = Source::new("t.policy", "é\n𝄞x\r\n\nz");
        let ends = source.text().char_indices().map(|(at, _)| at).chain([source.text().len()]);
        for at in ends {
            assert_eq!(offset(&source, position(&source, at)), at, "offset {at}");
        }
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let source = Source::new("t.policy", "ab\ncd");
        assert_eq!(offset(&source, Position::new(0, 99)), 2);
        assert_eq!(offset(&source, Position::new(7, 0)), source.text().len());
        assert_eq!(position(&source, 99), Position::new(1, 2));
    }
}
