//! A verifier rejection told in policy terms. The kernel's verifier names
//! the C line it refused (from the object's BTF line info); the origin
//! comments of the generated C lead from there to the policy line, which the
//! report then points at. Without the policy (a bare object), the runtime's
//! own message names the C line.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use miette::{LabeledSpan, SourceCode};
use schedc_compiler::{check_source, generate_c, origin, Checked, Source};
use schedc_runtime::{CLine, Rejection};

use crate::compile::is_bpf_object;
use crate::error::CliError;

/// A policy and the C generated from it, under the name clang compiled it.
pub struct Generated {
    source: Arc<Source>,
    c: String,
    /// The C file's name in the object's line info: `NAME.bpf.c`.
    c_file: String,
}

impl Generated {
    pub fn new(checked: &Checked) -> Generated {
        Generated {
            source: Arc::clone(&checked.source),
            c: generate_c(checked),
            c_file: format!("{}.bpf.c", checked.model.name),
        }
    }

    /// The policy at `path`, shown as `name`, and its C, if `path` is a
    /// policy that checks (a BPF object has no policy to point into).
    pub fn from_policy_file(path: &Path, name: &str) -> Option<Generated> {
        let text = std::fs::read(path).ok().filter(|bytes| !is_bpf_object(bytes))?;
        let checked = check_source(name, &String::from_utf8(text).ok()?).ok()?;
        Some(Generated::new(&checked))
    }

    /// The policy line (counted from 1) whose C the verifier refused, and
    /// the C line the policy line was found from.
    fn policy_line<'r>(&self, rejection: &'r Rejection) -> Option<(usize, &'r CLine)> {
        let at = rejection.last_line_in(&self.c_file)?;
        let file = Path::new(self.source.name()).file_name()?.to_string_lossy();
        Some((origin::policy_line(&self.c, &file, at.line)?, at))
    }
}

/// `err` pointed at the policy line, when it is a verifier refusal of C
/// that the policy and C from `generated` (asked only then) map to a policy
/// line; any other error as it is.
pub fn in_policy_terms(err: schedc_runtime::Error, generated: impl FnOnce() -> Option<Generated>) -> CliError {
    let schedc_runtime::Error::VerifierRejected { rejection, kept_log, .. } = &err else { return err.into() };
    let Some(generated) = generated() else { return err.into() };
    match PolicyRejection::new(&generated, rejection, kept_log.as_deref()) {
        Some(report) => CliError::VerifierRejected(Box::new(report)),
        None => err.into(),
    }
}

/// The kernel refused the code generated for one line of the policy.
#[derive(Debug)]
pub struct PolicyRejection {
    source: Arc<Source>,
    /// The policy line's text, without indentation and comment.
    span: miette::SourceSpan,
    message: String,
    label: String,
    help: String,
}

impl PolicyRejection {
    fn new(generated: &Generated, rejection: &Rejection, kept_log: Option<&Path>) -> Option<PolicyRejection> {
        let (line, at) = generated.policy_line(rejection)?;
        let source = &generated.source;
        let text = source.line_without_comment(line);
        // `line` borrows from the text: its offset there is where it starts.
        let start = text.as_ptr() as usize - source.text().as_ptr() as usize;
        let code = text.trim();
        let span = (start + (text.len() - text.trim_start().len()), code.len()).into();
        let refused = match rejection.c_line().filter(|c| c.file != at.file) {
            Some(helper) => format!("{at}, in the helper at {helper}"),
            None => at.to_string(),
        };
        Some(PolicyRejection {
            source: Arc::clone(source),
            span,
            message: format!(
                "The kernel's verifier refused {}, in the code generated for this line; it said:\n{}",
                rejection.prog,
                rejection.last_words.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
            ),
            label: format!("refused here: {refused} `{}`", at.code),
            help: schedc_runtime::report_help(kept_log),
        })
    }
}

impl fmt::Display for PolicyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyRejection {}

impl miette::Diagnostic for PolicyRejection {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("schedc::verifier-rejected"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/vm/reject.bpf.c` is the C of `tests/vm/reject.policy` with
    /// the line of the rule on policy line 15 changed into an out-of-bounds
    /// read; the logs are what 6.12 and 7.2 said when they refused it.
    const POLICY: &str = include_str!("../tests/vm/reject.policy");
    const C: &str = include_str!("../tests/vm/reject.bpf.c");
    const LOGS: [&str; 2] =
        [include_str!("../tests/vm/reject.verifier-6.12.log"), include_str!("../tests/vm/reject.verifier-7.2.log")];

    fn generated() -> Generated {
        let checked = check_source("tests/vm/reject.policy", POLICY).unwrap_or_else(|r| panic!("{r:?}"));
        Generated { c: C.to_string(), ..Generated::new(&checked) }
    }

    fn render(report: &PolicyRejection) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(200)
            .with_links(false);
        let mut out = String::new();
        handler.render_report(&mut out, report).unwrap();
        out
    }

    /// The hand-changed C stays what schedc generates from the policy, but
    /// for its header note and the one line made to read out of bounds:
    /// when code generation changes, this says to regenerate it (and to
    /// record the kernels' logs again).
    #[test]
    fn the_refused_c_is_the_generated_c_but_for_one_line() {
        let fresh = Generated::new(&check_source("tests/vm/reject.policy", POLICY).unwrap()).c;
        let body = |c: &str| c.split_once(" */\n").map(|(_, rest)| rest.to_string()).expect("a header comment");
        let (fresh, kept) = (body(&fresh), body(C));
        let changed: Vec<(&str, &str)> = fresh.lines().zip(kept.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(fresh.lines().count(), kept.lines().count(), "regenerate tests/vm/reject.bpf.c");
        assert_eq!(
            changed,
            [("\ttctx->hits += 1;", "\ttctx->hits += *((volatile u64 *)&tctx->hits + 1);")],
            "tests/vm/reject.bpf.c drifted from what schedc generates: regenerate it from reject.policy, \
             change that one line again and record the verifier logs anew"
        );
    }

    #[test]
    fn a_real_rejection_points_at_the_policy_line() {
        for log in LOGS {
            let rejection = Rejection::from_libbpf_log(log).expect("the log of a refused program");
            let report = PolicyRejection::new(&generated(), &rejection, Some(Path::new("/tmp/v.log")))
                .expect("mapped to a policy line");
            let shown = render(&report);
            assert!(shown.contains("schedc::verifier-rejected"), "{shown}");
            assert!(shown.contains("The kernel's verifier refused reject_enqueue"), "{shown}");
            assert!(shown.contains("[tests/vm/reject.policy:15:5]"), "{shown}");
            assert!(shown.contains("15 │     task.hits += 1"), "{shown}");
            assert!(shown.contains("refused here: reject.bpf.c:73 `tctx->hits += *((volatile u64 *)"), "{shown}");
            assert!(shown.contains("invalid access to map value, value_size=8 off=8 size=8"), "{shown}");
            assert!(shown.contains("/tmp/v.log"), "{shown}");
            assert!(!shown.contains("processed 18 insns"), "{shown}");
        }
    }

    #[test]
    fn a_refusal_in_a_header_helper_points_at_the_calling_line() {
        let log = "libbpf: prog 'reject_enqueue': -- BEGIN PROG LOAD LOG --\n\
                   ; last_hits = tctx->hits; @ reject.bpf.c:75\n\
                   24: (18) r1 = 0x0\n\
                   ; return a / b; @ schedc.bpf.h:360\n\
                   26: (3f) r1 /= r2\n\
                   R2 !read_ok\n\
                   -- END PROG LOAD LOG --\n";
        let rejection = Rejection::from_libbpf_log(log).unwrap();
        let report = PolicyRejection::new(&generated(), &rejection, None).unwrap();
        let shown = render(&report);
        assert!(shown.contains("[tests/vm/reject.policy:16:5]"), "{shown}");
        assert!(shown.contains("reject.bpf.c:75, in the helper at schedc.bpf.h:360"), "{shown}");
    }

    #[test]
    fn other_errors_and_bare_objects_keep_the_runtimes_message() {
        let rejection = Rejection::from_libbpf_log(LOGS[0]).unwrap();
        let err = || schedc_runtime::Error::VerifierRejected {
            path: "/objs/reject.bpf.o".into(),
            rejection: Box::new(rejection.clone()),
            kept_log: None,
            source: libbpf_rs::Error::from(std::io::Error::from_raw_os_error(13)),
        };
        assert!(matches!(in_policy_terms(err(), || Some(generated())), CliError::VerifierRejected(_)));
        let bare = in_policy_terms(err(), || None);
        assert!(matches!(bare, CliError::Runtime(_)));
        assert!(bare.to_string().contains("at reject.bpf.c:73 (`tctx->hits"), "{bare}");
        let other = in_policy_terms(schedc_runtime::Error::NotRoot { command: "schedc run" }, || {
            panic!("asked for the policy")
        });
        assert!(matches!(other, CliError::Runtime(schedc_runtime::Error::NotRoot { .. })));
    }
}
