//! What every test crate of the workspace shares: whether the tests run
//! under CI, and how a test that cannot run here says so.
//!
//! A test that needs something this machine may lack (clang, root, QEMU,
//! the test kernels) never passes silently without it. Outside CI it is
//! skipped visibly: in the test crates that use [`run`], an `ignored
//! (<reason>)` result; in a plain `#[test]`, a `SKIPPED: <test>: <reason>`
//! line. Under CI the
//! same test fails with the reason, since there nothing may be skipped.

use std::fmt::Display;
use std::io::Write as _;

pub use libtest_mimic::Trial;
use libtest_mimic::{Arguments, Completion, Failed};

/// Whether the tests run under continuous integration: `CI` is set to
/// anything but "", "0" or "false". This is insta's rule too, so snapshots
/// and skips agree on where they are.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Why a test cannot run on this machine.
#[derive(Debug)]
pub struct Missing(String);

impl Missing {
    pub fn new(reason: impl Display) -> Missing {
        Missing(reason.to_string())
    }
}

/// The value `found` holds, or, when it is an error, why the test cannot
/// run: `needs("clang", Clang::find())?` in a test given to [`test`].
pub fn needs<T, E: Display>(what: &str, found: Result<T, E>) -> Result<T, Missing> {
    found.map_err(|e| Missing(format!("needs {what}: {e}")))
}

/// For a `#[test]` that cannot run here: under CI this panics with
/// `reason`; elsewhere it prints `SKIPPED: <test>: <reason>` past libtest's
/// output capture, and the caller returns. (libtest cannot mark a running
/// `#[test]` ignored; the crates that use [`run`] report an ignored test.)
pub fn skip_or_fail(reason: impl Display) {
    // libtest names each test's thread after the test.
    let test = match std::thread::current().name() {
        Some(name) if name != "main" => format!("{name}: "),
        _ => String::new(),
    };
    if in_ci() {
        panic!("{test}cannot be skipped under CI: {reason}");
    }
    // Straight to the process's standard error: libtest captures only what
    // `eprintln!` prints.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}{reason}");
}

/// A named test for [`run`]. `body` fails by panicking, and returns
/// `Err(Missing)` when it cannot run here: then the test is ignored with
/// that reason, or fails under CI.
pub fn test(name: impl Into<String>, body: impl FnOnce() -> Result<(), Missing> + Send + 'static) -> Trial {
    Trial::ignorable_test(name, move || conclude(in_ci(), body()))
}

/// What a test's result means for libtest-mimic: a missing requirement
/// ignores the test, or fails it under CI.
fn conclude(ci: bool, result: Result<(), Missing>) -> Result<Completion, Failed> {
    match result {
        Ok(()) => Ok(Completion::Completed),
        Err(Missing(reason)) if ci => Err(format!("cannot be skipped under CI: {reason}").into()),
        Err(Missing(reason)) => Ok(Completion::ignored_with(reason)),
    }
}

/// A named test for [`run`] that always runs: `body` fails by panicking.
pub fn always(name: impl Into<String>, body: impl FnOnce() + Send + 'static) -> Trial {
    Trial::test(name, move || {
        body();
        Ok(())
    })
}

/// Trials for plain test functions, each named after its function:
/// `testkit::always_all![a, b]` is `vec![always("a", a), always("b", b)]`.
#[macro_export]
macro_rules! always_all {
    ($($test:ident),* $(,)?) => {
        vec![$($crate::always(stringify!($test), $test)),*]
    };
}

/// Trials for test functions that need a value this machine may lack,
/// each named after its function: `testkit::needing_all!("clang",
/// Clang::find(), [a, b])` runs `a(clang)` and `b(clang)` when there is a
/// clang, and reports both ignored (or failed under CI) when there is not.
/// The requirement is a `Result` whose value and error are `Clone`.
#[macro_export]
macro_rules! needing_all {
    ($what:expr, $requirement:expr, [$($test:ident),* $(,)?]) => {{
        let requirement = $requirement;
        vec![$({
            let requirement = requirement.clone();
            $crate::test(stringify!($test), move || {
                $test($crate::needs($what, requirement)?);
                Ok(())
            })
        }),*]
    }};
}

/// Runs `trials` as libtest would (same arguments and output), then exits.
/// For test targets with `harness = false`.
pub fn run(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}

/// [`run`] for tests that each boot a QEMU guest: at most two at a time
/// unless `--test-threads` says otherwise. Every guest emulates its CPUs
/// on one host thread, and more guests than host cores slow each one
/// until timing-sensitive kernels (watchdogs, hung-task checks) misbehave.
pub fn run_guests(trials: Vec<Trial>) -> ! {
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(2);
    libtest_mimic::run(&args, trials).exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_names_what_is_missing() {
        let missing = needs::<(), _>("clang", Err("not on PATH")).unwrap_err();
        assert_eq!(missing.0, "needs clang: not on PATH");
        assert_eq!(needs::<_, String>("clang", Ok(3)).unwrap(), 3);
    }

    #[test]
    fn a_missing_requirement_ignores_the_test_except_under_ci() {
        let missing = || Err(Missing::new("needs root"));
        let outside = conclude(false, missing());
        assert!(matches!(outside, Ok(Completion::Ignored { reason: Some(r) }) if r == "needs root"));
        let under_ci = conclude(true, missing()).err().expect("fails under CI");
        assert_eq!(under_ci.message(), Some("cannot be skipped under CI: needs root"));
        assert!(matches!(conclude(true, Ok(())), Ok(Completion::Completed)));
    }
}
