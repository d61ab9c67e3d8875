//! What the kernel's verifier said when it refused a program, read from
//! libbpf's log of the failed load.
//!
//! On a failed load libbpf loads the program again with the verifier's log
//! on and prints it between `-- BEGIN PROG LOAD LOG --` and `-- END PROG
//! LOAD LOG --`. The verifier walks the program instruction by instruction;
//! before the instructions of each new C line it prints that line from the
//! object's BTF line info, as `; CODE @ FILE:LINE`. It stops at the first
//! instruction it refuses and says why in the lines after it, so the last
//! C line of the log is where the program was refused.

use std::fmt;
use std::path::Path;

/// A C line the verifier named, from the object's BTF line info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CLine {
    /// The C file's name as clang saw it, without folders: `fifo.bpf.c`.
    pub file: String,
    /// Counted from 1.
    pub line: usize,
    /// The line's code, trimmed.
    pub code: String,
}

impl fmt::Display for CLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A program the verifier refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The program (the C function): `fifo_enqueue`.
    pub prog: String,
    /// The last meaningful lines of the verifier's log: the refused
    /// instruction and why, without the statistics that close every log.
    pub last_words: Vec<String>,
    /// Every C line the log names, in the order the verifier reached them.
    lines: Vec<CLine>,
}

/// At most this many lines of the verifier's own words are shown.
const LAST_WORDS: usize = 6;

impl Rejection {
    /// The rejection in libbpf's log of a failed load, if the log holds a
    /// program's verifier log.
    pub fn from_libbpf_log(log: &str) -> Option<Rejection> {
        const BEGIN: &str = "': -- BEGIN PROG LOAD LOG --";
        let (head, body) = log.rsplit_once(BEGIN)?;
        let prog = head.rsplit_once("prog '")?.1.to_string();
        let body = body.split("-- END PROG LOAD LOG --").next().unwrap_or(body);
        let lines: Vec<&str> = body.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
        let words: Vec<&str> = lines.iter().copied().filter(|l| !is_statistics(l)).collect();
        // From the last instruction on, with its C line: what was refused and why.
        let mut from = words.iter().rposition(|l| is_instruction(l)).unwrap_or(0);
        if from > 0 && words[from - 1].starts_with("; ") {
            from -= 1;
        }
        let tail = &words[from..];
        let last_words = tail[tail.len().saturating_sub(LAST_WORDS)..].iter().map(|l| l.to_string()).collect();
        Some(Rejection { prog, last_words, lines: lines.iter().filter_map(|l| c_line(l)).collect() })
    }

    /// The C line of the refused instruction, if the object has line info.
    pub fn c_line(&self) -> Option<&CLine> {
        self.lines.last()
    }

    /// The last C line of file `file` the verifier reached: where the
    /// refused instruction is, or, when that is in a header's inline helper,
    /// the line of `file` that called it.
    pub fn last_line_in(&self, file: &str) -> Option<&CLine> {
        self.lines.iter().rev().find(|l| l.file == file)
    }
}

/// What to do about a refused program: code generated from a checked policy
/// should always pass, so it is a bug to report, with the log kept at
/// `kept_log`.
pub fn report_help(kept_log: Option<&Path>) -> String {
    let log = kept_log.map_or(String::new(), |p| format!(" (the whole verifier log is kept at {})", p.display()));
    format!("schedc generates code the verifier accepts, so please report this with the policy and the log{log}")
}

/// `; CODE @ FILE:LINE` as a [`CLine`].
fn c_line(log_line: &str) -> Option<CLine> {
    let (code, place) = log_line.strip_prefix("; ")?.rsplit_once(" @ ")?;
    let (file, line) = place.rsplit_once(':')?;
    let file = file.rsplit('/').next().unwrap_or(file);
    Some(CLine { file: file.to_string(), line: line.trim().parse().ok()?, code: code.trim().to_string() })
}

/// `20: (79) r1 = *(u64 *)(r0 +8)`: an instruction, as opposed to a
/// register state line such as `20: R0=map_value(...)`.
fn is_instruction(line: &str) -> bool {
    let Some((index, rest)) = line.split_once(": ") else { return false };
    !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with('(')
}

/// The summary lines the verifier ends every log with.
fn is_statistics(line: &str) -> bool {
    ["processed ", "verification time ", "stack depth "].iter().any(|p| line.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real logs: `tests/vm/reject.bpf.c` refused by 6.12 and by 7.2.
    const LOGS: [&str; 2] = [
        include_str!("../../tests/vm/reject.verifier-6.12.log"),
        include_str!("../../tests/vm/reject.verifier-7.2.log"),
    ];

    #[test]
    fn the_refused_instruction_its_c_line_and_the_reason_are_found() {
        for log in LOGS {
            check_reject_log(log);
        }
    }

    fn check_reject_log(log: &str) {
        let r = Rejection::from_libbpf_log(log).expect("a program's log");
        assert_eq!(r.prog, "reject_enqueue");
        let at = r.c_line().expect("line info");
        assert_eq!((at.file.as_str(), at.line), ("reject.bpf.c", 73));
        assert_eq!(at.code, "tctx->hits += *((volatile u64 *)&tctx->hits + 1);");
        assert_eq!(
            r.last_words,
            [
                "; tctx->hits += *((volatile u64 *)&tctx->hits + 1); @ reject.bpf.c:73",
                "20: (79) r1 = *(u64 *)(r0 +8)",
                "invalid access to map value, value_size=8 off=8 size=8",
                "R0 min value is outside of the allowed memory range",
            ]
        );
        assert_eq!(r.last_line_in("reject.bpf.c"), Some(at));
        assert_eq!(r.last_line_in("schedc.bpf.h"), None);
    }

    #[test]
    fn a_refusal_inside_a_header_helper_names_the_calling_line_too() {
        let log = "libbpf: prog 'x_enqueue': -- BEGIN PROG LOAD LOG --\n\
                   ; schedc_insert(p, DSQ_Q, slice, enq_flags); @ x.bpf.c:40\n\
                   7: (85) call bpf_ktime_get_ns#5\n\
                   ; return a / b; @ /tmp/build/schedc.bpf.h:360\n\
                   9: (3f) r1 /= r2\n\
                   R2 invalid mem access 'scalar'\n\
                   processed 9 insns (limit 1000000) max_states_per_insn 0\n\
                   -- END PROG LOAD LOG --\n";
        let r = Rejection::from_libbpf_log(log).unwrap();
        assert_eq!(r.c_line().unwrap().to_string(), "schedc.bpf.h:360");
        assert_eq!(r.last_line_in("x.bpf.c").unwrap().line, 40);
        assert_eq!(r.last_words.len(), 3, "{:?}", r.last_words);
    }

    #[test]
    fn a_log_without_line_info_or_without_a_program_log() {
        let log = "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\nR1 type=ctx expected=fp\n-- END PROG LOAD LOG --\n";
        let r = Rejection::from_libbpf_log(log).unwrap();
        assert_eq!(r.c_line(), None);
        assert_eq!(r.last_words, ["R1 type=ctx expected=fp"]);
        assert_eq!(Rejection::from_libbpf_log("libbpf: failed to find BTF for extern 'x'\n"), None);
    }
}
