//! Lines to text: comments put back beside or above the lines they belong
//! to, blank lines kept (at most one in a row), declaration groups aligned.

use super::layout::Line;
use super::source::Source;

/// Spaces between code and a trailing comment.
const COMMENT_GAP: usize = 3;

enum Entry {
    Code(usize),
    /// A comment on a line of its own, at a depth, from a source line.
    Comment(String, usize, usize),
}

/// Attaches every comment of the source to the lines. A trailing comment
/// goes beside the line made from its source line (the last such line that
/// is not a brace, as it follows the last code of that source line), unless
/// several would: then, like any other comment, they go above the first
/// line made from their source line or later ones.
fn place_comments(source: &Source, lines: &mut [Line]) -> Vec<Entry> {
    let targets: Vec<(usize, bool)> = source
        .comments
        .iter()
        .map(|comment| {
            let at = source.line(comment.start);
            let from_line = |l: &Line| l.first <= at && at <= l.last;
            let beside = lines
                .iter()
                .rposition(|l| from_line(l) && !l.opens && !l.closes)
                .or_else(|| lines.iter().position(from_line))
                .filter(|_| comment.trailing);
            match beside {
                Some(i) => (i, true),
                None => (lines.iter().position(|l| from_line(l) || l.first > at).unwrap_or(lines.len()), false),
            }
        })
        .collect();
    let mut above: Vec<Vec<(String, usize)>> = (0..=lines.len()).map(|_| Vec::new()).collect();
    for (comment, &(i, beside)) in source.comments.iter().zip(&targets) {
        let alone = targets.iter().filter(|&&t| t == (i, true)).count() == 1;
        if beside && alone {
            lines[i].trailing_comment = Some(comment.text.clone());
        } else {
            above[i].push((comment.text.clone(), source.line(comment.start)));
        }
    }
    let mut entries = Vec::new();
    for (i, comments) in above.into_iter().enumerate() {
        // A comment just above a `}` belongs to the block it closes.
        let depth = lines.get(i).map_or(0, |l| l.depth + usize::from(l.closes));
        entries.extend(comments.into_iter().map(|(text, at)| Entry::Comment(text, depth, at)));
        if i < lines.len() {
            entries.push(Entry::Code(i));
        }
    }
    entries
}

/// Whether a blank line goes between two entries: where the source had
/// one, but never just inside a block.
fn blank_between(source: &Source, lines: &[Line], before: &Entry, after: &Entry) -> bool {
    let (before_last, opens) = match before {
        Entry::Code(i) => (lines[*i].last, lines[*i].opens),
        Entry::Comment(_, _, at) => (*at, false),
    };
    let (after_first, closes) = match after {
        Entry::Code(i) => (lines[*i].first, lines[*i].closes),
        Entry::Comment(_, _, at) => (*at, false),
    };
    !opens && !closes && (before_last + 1..after_first).any(|l| source.is_blank_line(l))
}

pub(super) fn render(source: &Source, mut lines: Vec<Line>, keep_trivia: bool) -> String {
    let entries =
        if keep_trivia { place_comments(source, &mut lines) } else { (0..lines.len()).map(Entry::Code).collect() };
    let mut blank_before = vec![false; entries.len()];
    if keep_trivia {
        for i in 1..entries.len() {
            blank_before[i] = blank_between(source, &lines, &entries[i - 1], &entries[i]);
        }
    }

    // Runs of declarations of one family, not broken by a blank line or a
    // comment, are aligned; every other line is a group of its own.
    let mut texts = vec![String::new(); entries.len()];
    let mut start = 0;
    while start < entries.len() {
        let family = |i: usize| match entries[i] {
            Entry::Code(l) => lines[l].family,
            Entry::Comment(..) => None,
        };
        let mut end = start + 1;
        if family(start).is_some() {
            while end < entries.len() && !blank_before[end] && family(end) == family(start) {
                end += 1;
            }
        }
        render_group(&lines, &entries[start..end], &mut texts[start..end]);
        start = end;
    }

    let mut out = String::new();
    for (i, text) in texts.iter().enumerate() {
        if blank_before[i] {
            out.push('\n');
        }
        out.push_str(text);
        out.push('\n');
    }
    out
}

fn render_group(lines: &[Line], entries: &[Entry], out: &mut [String]) {
    let group: Vec<&Line> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Code(i) => Some(&lines[*i]),
            Entry::Comment(..) => None,
        })
        .collect();
    let columns = group.iter().map(|l| l.cells.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| group.iter().filter(|l| c + 1 < l.cells.len()).map(|l| l.cells[c].chars().count()).max().unwrap_or(0))
        .collect();
    let code: Vec<String> = group
        .iter()
        .map(|l| {
            let last = l.cells.len() - 1;
            let cells: Vec<String> = l
                .cells
                .iter()
                .enumerate()
                .map(|(c, text)| if c < last { format!("{text:<w$}", w = widths[c]) } else { text.clone() })
                .collect();
            format!("{}{}", "    ".repeat(l.depth), cells.join(" "))
        })
        .collect();
    let comment_column = group
        .iter()
        .zip(&code)
        .filter(|(l, _)| l.trailing_comment.is_some())
        .map(|(_, c)| c.chars().count())
        .max()
        .unwrap_or(0)
        + COMMENT_GAP;
    let mut code = group.iter().zip(code);
    for (entry, out) in entries.iter().zip(out) {
        *out = match entry {
            Entry::Comment(text, depth, _) => format!("{}{text}", "    ".repeat(*depth)),
            Entry::Code(_) => {
                let (line, text) = code.next().expect("one text per code line");
                match &line.trailing_comment {
                    Some(comment) => format!("{text:<comment_column$}{comment}"),
                    None => text,
                }
            }
        };
    }
}
