//! Origin comments: the `/* FILE:LINE  TEXT */` comment lowering puts above
//! each piece of generated C to name the policy line it implements, and
//! the way back from a C line to that policy line, for reports about the C
//! (a verifier that refused the code at a C line).

/// The comment naming policy line `line` of file `file` (its name without
/// folders), whose text is `text`, already safe inside a C comment.
pub(crate) fn comment(file: &str, line: usize, text: &str) -> String {
    format!("/* {file}:{line}  {text} */")
}

/// The policy file and line an origin comment names, if `c_line` is one.
pub fn parse(c_line: &str) -> Option<(&str, usize)> {
    let inner = c_line.trim().strip_prefix("/* ")?.strip_suffix(" */")?;
    let (place, _text) = inner.split_once("  ")?;
    let (file, line) = place.rsplit_once(':')?;
    let line = line.parse().ok()?;
    (!file.is_empty() && !file.contains(char::is_whitespace)).then_some((file, line))
}

/// The policy line (of file `file`) that line `c_line` (counted from 1) of
/// the generated C `c` implements: the nearest origin comment above it,
/// indented no deeper than it, within its function. A comment deeper than
/// the line belongs to a block the line is not in; the function's own
/// comment sits above its signature.
pub fn policy_line(c: &str, file: &str, c_line: usize) -> Option<usize> {
    let lines: Vec<&str> = c.lines().collect();
    let target = *lines.get(c_line.checked_sub(1)?)?;
    let depth = indentation(target);
    for (i, line) in lines[..c_line].iter().enumerate().rev() {
        // The end of the previous definition: nothing above is ours.
        if i + 1 < c_line && (line.starts_with('}') || line.starts_with("};")) {
            return None;
        }
        if let Some((named, number)) = parse(line) {
            if named == file && indentation(line) <= depth {
                return Some(number);
            }
        }
    }
    None
}

/// Leading tabs, the generated C's only indentation.
fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches('\t').len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "\
/* p.policy:6  queue q shared fifo */
static __always_inline void schedc_queue_q(struct task_struct *p)
{
\tu64 slice = SCHEDC_SLICE_DFL;
}

/* A task gives up its CPU. */
void SCHEDC_OPS(s_stopping, struct task_struct *p, bool runnable)
{
\tstruct schedc_task *tctx = schedc_task_ctx(p);

\t/* p.policy:12  on stopping { */
\t/* p.policy:13  if task.runs > 1 { */
\tif (tctx->runs > 1) {
\t\t/* p.policy:14  task.runs = 0 */
\t\ttctx->runs = 0;
\t}
\ttctx->seen = 1;
}
";

    #[test]
    fn comments_are_read_back_as_written() {
        let written = comment("bpfland.policy", 92, "vtime charge = (a - b) * 100");
        assert_eq!(parse(&format!("\t{written}")), Some(("bpfland.policy", 92)));
        assert_eq!(parse("/* A task gives up its CPU. */"), None);
        assert_eq!(parse("\ttctx->runs = 0;"), None);
    }

    #[test]
    fn a_c_line_maps_to_the_nearest_enclosing_origin() {
        let line_of = |code: &str| C.lines().position(|l| l.trim() == code).unwrap() + 1;
        assert_eq!(policy_line(C, "p.policy", line_of("tctx->runs = 0;")), Some(14));
        assert_eq!(policy_line(C, "p.policy", line_of("if (tctx->runs > 1) {")), Some(13));
        // Not inside the `if`: the comment indented deeper does not count.
        assert_eq!(policy_line(C, "p.policy", line_of("tctx->seen = 1;")), Some(13));
        assert_eq!(policy_line(C, "p.policy", line_of("u64 slice = SCHEDC_SLICE_DFL;")), Some(6));
        // The prologue of a callback whose comment names no policy line.
        assert_eq!(policy_line(C, "p.policy", line_of("struct schedc_task *tctx = schedc_task_ctx(p);")), None);
        assert_eq!(policy_line(C, "other.policy", line_of("tctx->runs = 0;")), None);
        assert_eq!(policy_line(C, "p.policy", 999), None);
    }
}
