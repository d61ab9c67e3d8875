//! Every kind of diagnostic, with its stable code, whether it is an error or
//! a warning, what it means, and a policy that draws it. The table in
//! `docs/language.md` (§13) lists the same codes with the same meanings; a
//! test keeps the two in step, and another checks every example.

use std::fmt;

use super::Severity;

/// Declares [`Code`] and its table from one list, so that a code, its
/// meaning and its example are written once, side by side.
macro_rules! codes {
    ($(
        $(#[$attr:meta])*
        $variant:ident = $code:literal, $severity:ident, $description:literal,
        example $example:literal;
    )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$attr])* $variant,)*
        }

        impl Code {
            /// Every code, in the order of the documentation's table.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            fn entry(self) -> (&'static str, Severity, &'static str, &'static str) {
                match self {
                    $(Code::$variant => ($code, Severity::$severity, $description, $example),)*
                }
            }
        }
    };
}

impl Code {
    /// The stable name shown as `schedc::NAME`, e.g. `unknown-name`.
    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    /// Whether a diagnostic of this kind stops compilation.
    pub fn severity(self) -> Severity {
        self.entry().1
    }

    /// One line saying what this kind of diagnostic is about.
    pub fn description(self) -> &'static str {
        self.entry().2
    }

    /// A short policy that draws this diagnostic.
    pub fn example(self) -> &'static str {
        self.entry().3
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    Syntax = "syntax", Error,
        "the text does not parse: an unexpected token (with what was expected), a misspelt item keyword, an unclosed string, `&&`/`||`/`!`/`;`, a unit apart from its number or unknown (`5 ms`, `1sec`), a fraction, a name beyond ASCII, a block left open, chained comparisons, shifts, `default` with preferences",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { task.kthread && task.weight > 100 -> q  else -> q }
dispatch { q }
"#;
    ByteOrderMark = "byte-order-mark", Warning,
        "the file starts with a byte-order mark (U+FEFF), which is skipped",
        example "\u{feff}scheduler s \"example\"\nqueue q shared fifo\nenqueue { else -> q }\ndispatch { q }\n";
    TooDeep = "too-deep", Error,
        "an expression or statement nested more than 64 levels (or too deep for the parser)",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = -----------------------------------------------------------------5ms
"#;
    MissingScheduler = "missing-scheduler", Error,
        "no `scheduler` item",
        example r#"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
"#;
    MissingItem = "missing-item", Error,
        "no `enqueue` or no `dispatch` block",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
"#;
    DuplicateItem = "duplicate-item", Error,
        "a second `scheduler`, `select_cpu`, `enqueue`, `dispatch`, `slice`, `vtime charge`, `vtime lag`, `vtime deadline`, `preempt` or `on EVENT`",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = 5ms
slice = 10ms
"#;
    DuplicateName = "duplicate-name", Error,
        "a name declared twice; a per-task variable named like a task fact; a `let` reusing a name; a queue served twice (but for a fallback line after a `when`); `keep_running` written twice",
        example r#"
scheduler s "example"
queue q shared fifo
queue q per_cpu fifo
enqueue { else -> q }
dispatch { q }
"#;
    ReservedName = "reserved-name", Error,
        "a name the language, C or the generated code keeps, or one with an upper-case letter (§14); a scheduler name whose callbacks (`NAME_…`) would start with a reserved prefix; a parameter, queue, class, global or statistic named `SCHEDULER_CALLBACK`, such as `bpfland_enqueue` or `bpfland_ops`",
        example r#"
scheduler s "example"
queue int shared fifo
enqueue { else -> int }
dispatch { int }
"#;
    BadName = "bad-name", Error,
        "the scheduler name is 128 bytes or longer",
        example r#"
scheduler a_scheduler_name_longer_than_the_kernel_keeps_for_the_name_of_a_scheduler_which_is_at_most_one_hundred_and_twenty_seven_bytes_long "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
"#;
    UnknownName = "unknown-name", Error,
        "an undeclared name, fact, queue, class or function (with a \"did you mean\" when one is close); `system.vtime_now` without a `vtime` queue; `task.class`, `task is …` or `task.class = …` in a policy that declares no class; an unknown dotted name",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { task.kthraed -> q  else -> q }
dispatch { q }
"#;
    NotAQueue = "not-a-queue", Error,
        "a name used as a queue is something else",
        example r#"
scheduler s "example"
queue q shared fifo
class batch "background work"
enqueue { task is batch -> q  else -> batch }
dispatch { q }
"#;
    TypeMismatch = "type-mismatch", Error,
        "a value of the wrong type: conditions that are not bools, operands that cannot be compared, branches that differ, a `time` parameter, negating a uint, strings other than `task.comm == \"…\"`, non-class values for `task.class`, `+=`/`-=` on a bool or class, a non-duration added to a `time` place, tracing a class or string, …",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { task.weight -> q  else -> q }
dispatch { q }
"#;
    UnitMismatch = "unit-mismatch", Error,
        "arithmetic whose units do not combine (§7.3)",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = 5ms * 5ms
"#;
    OutOfRange = "out-of-range", Error,
        "a number beyond 64 bits, a duration beyond 2^63 ns, a negative `uint`, a parameter default or bound outside its range, reversed bounds, a timeout outside 1ms..30s, a task name longer than 15 characters, a `cpu.perf` target above 1024",
        example r#"
scheduler s "example" timeout 60s
queue q shared fifo
enqueue { else -> q }
dispatch { q }
"#;
    NotConstant = "not-constant", Error,
        "a parameter default or bound that is not a constant (naming a parameter, itself included, counts as not constant); a timeout that is not a literal duration (a parameter is not allowed there)",
        example r#"
scheduler s "example"
param slice_min: duration = 1ms "shortest slice"
param slice_max: duration = slice_min * 10 "longest slice"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = clamp(5ms, slice_min, slice_max)
"#;
    WrongContext = "wrong-context", Error,
        "a task fact with no task at hand, an event fact in the wrong event, `elapsed` outside `every`, `every` outside an `on` event or nested, `cpu.perf = …` outside `on tick`, `on running`, `on stopping` and `on timer`",
        example r#"
scheduler s "example"
global heaviest: uint = task.weight
queue q shared fifo
enqueue { task.weight > heaviest -> q  else -> q }
dispatch { q }
"#;
    WrongArity = "wrong-arity", Error,
        "a built-in function called with the wrong number of arguments",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = min(5ms)
"#;
    BadClamp = "bad-clamp", Error,
        "a `clamp(value, low, high)` whose constant low bound is above its constant high bound",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = clamp(5ms, 10ms, 1ms)
"#;
    NotAssignable = "not-assignable", Error,
        "assigning a parameter, a `let`, a bound statistic, a read-only fact, or a counter with `=`/`-=`",
        example r#"
scheduler s "example"
queue q shared fifo
on running { task.weight = 100 }
enqueue { else -> q }
dispatch { q }
"#;
    DivisionByZero = "division-by-zero", Error,
        "a divisor that is always zero",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = 20ms / 0
"#;
    DivisorMayBeZero = "divisor-may-be-zero", Warning,
        "a divisor not proven non-zero (§12)",
        example r#"
scheduler s "example"
param sharers: uint = 4 "how many tasks share 20ms"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = 20ms / sharers
"#;
    BadBinding = "bad-binding", Error,
        "a counter bound to something other than `queue.Q.inserted`, a gauge bound to something other than `slice`, or `queue.Q.inserted` read in a rule",
        example r#"
scheduler s "example"
queue q shared fifo
counter waiting = queue.q.len "tasks waiting"
enqueue { else -> q }
dispatch { q }
"#;
    BadPeriod = "bad-period", Error,
        "an `every` period that is not a positive constant",
        example r#"
scheduler s "example"
task runs: uint = 0
queue q shared fifo
on running { every 0ms { task.runs += 1 } }
enqueue { task.runs > 10 -> q  else -> q }
dispatch { q }
"#;
    BadSlice = "bad-slice", Error,
        "a slice formula that is constant and not positive",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
slice = 0ms
"#;
    BadStarvation = "bad-starvation", Error,
        "`starve after` on a `per_cpu` queue",
        example r#"
scheduler s "example"
queue near per_cpu fifo
queue q shared fifo
select_cpu { any found -> near }
enqueue { else -> q }
dispatch { near starve after 5ms  q }
"#;
    StarvationTooLong = "starvation-too-long", Error,
        "a starvation limit at or above the watchdog timeout, or a parameter limit that may be set that high",
        example r#"
scheduler s "example" timeout 5s
queue fast shared fifo
queue q shared fifo
enqueue { task.kthread -> fast  else -> q }
dispatch { fast  q starve after 10s }
"#;
    BadTrace = "bad-trace", Error,
        "a trace message containing `%`, or more than three values",
        example r#"
scheduler s "example"
queue q shared fifo
on running { trace "running at 100%" }
enqueue { else -> q }
dispatch { q }
"#;
    StackTooLarge = "stack-too-large", Error,
        "the rules one callback runs may keep more than the 512 bytes of BPF stack the kernel allows (8 bytes for each `let`, each `every` block's two values and each value kept across a kernel call)",
        example r#"
scheduler s "example"
queue q shared fifo
global last: time = 0
on running {
    let a0 = system.now let a1 = system.now let a2 = system.now let a3 = system.now let a4 = system.now let a5 = system.now let a6 = system.now let a7 = system.now
    let a8 = system.now let a9 = system.now let a10 = system.now let a11 = system.now let a12 = system.now let a13 = system.now let a14 = system.now let a15 = system.now
    let a16 = system.now let a17 = system.now let a18 = system.now let a19 = system.now let a20 = system.now let a21 = system.now let a22 = system.now let a23 = system.now
    let a24 = system.now let a25 = system.now let a26 = system.now let a27 = system.now let a28 = system.now let a29 = system.now let a30 = system.now let a31 = system.now
    let a32 = system.now let a33 = system.now let a34 = system.now let a35 = system.now let a36 = system.now let a37 = system.now let a38 = system.now let a39 = system.now
    let a40 = system.now let a41 = system.now let a42 = system.now let a43 = system.now let a44 = system.now let a45 = system.now let a46 = system.now let a47 = system.now
    let a48 = system.now let a49 = system.now let a50 = system.now let a51 = system.now let a52 = system.now let a53 = system.now let a54 = system.now let a55 = system.now
    let a56 = system.now let a57 = system.now let a58 = system.now let a59 = system.now let a60 = system.now let a61 = system.now let a62 = system.now let a63 = system.now
    last = system.now
}
enqueue { else -> q }
dispatch { q }
"#;
    MissingCatchAll = "missing-catch-all", Error,
        "an `enqueue` block without `else -> QUEUE`",
        example r#"
scheduler s "example"
queue q shared fifo
enqueue { task.kthread -> q }
dispatch { q }
"#;
    UnreachableRoute = "unreachable-route", Error,
        "a route after the catch-all",
        example r#"
scheduler s "example"
queue fast shared fifo
queue q shared fifo
enqueue { else -> q  task.kthread -> fast }
dispatch { fast  q }
"#;
    UnservedQueue = "unserved-queue", Error,
        "tasks are routed to a queue that `dispatch` never serves",
        example r#"
scheduler s "example"
queue fast shared fifo
queue q shared fifo
enqueue { task.kthread -> fast  else -> q }
dispatch { q }
"#;
    MissingVtimeCharge = "missing-vtime-charge", Error,
        "a `vtime` queue without a `vtime charge` formula",
        example r#"
scheduler s "example"
queue q shared vtime
enqueue { else -> q }
dispatch { q }
"#;
    NegativeCharge = "negative-charge", Warning,
        "a `vtime charge` not proven never negative: a negative charge counts as 0, so a vruntime never moves back",
        example r#"
scheduler s "example"
param slice_max: duration = 5ms "longest slice"
queue q shared vtime
enqueue { else -> q }
dispatch { q }
vtime charge = (slice_max - task.slice_left) * 100 / task.weight
"#;
    NeverFires = "never-fires", Warning,
        "a rule that can never take effect: `pinned` in `select_cpu` (the kernel does not call it for a task allowed on one CPU), or a `when` or route condition that is always false",
        example r#"
scheduler s "example"
queue q shared fifo
select_cpu { pinned  any  found -> q }
enqueue { else -> q }
dispatch { q }
"#;
    NegativeDeadline = "negative-deadline", Error,
        "a `vtime deadline` not proven never negative: a task's key would move below its vruntime",
        example r#"
scheduler s "example"
task awake: duration = 0ns
queue q shared vtime
on stopping { task.awake += 1ms }
enqueue { else -> q }
dispatch { q }
vtime charge = 1ms
vtime deadline = task.awake - 2ms
"#;
    BadDispatch = "bad-dispatch", Error,
        "a `fifo` queue in `earliest(...)`, `earliest(...)` or `round_robin(...)` with one queue, a `round_robin(...)` weight that is not a constant from 1 to 1024, `keep_running` before other lines of `dispatch`",
        example r#"
scheduler s "example"
queue a shared fifo
queue b shared vtime
enqueue { task.kthread -> a  else -> b }
dispatch { earliest(a, b) }
vtime charge = 1ms
"#;
    Unused = "unused", Warning,
        "a constant or function never used; a parameter, global, per-task or per-CPU variable or CPU set never read; a plain counter or a gauge with a literal first value that no rule assigns; a class never used or never assigned; a queue no task is routed to; a `vtime` formula with no `vtime` queue; a `gauge NAME = slice` in a policy without a `slice` item",
        example r#"
scheduler s "example"
param boost: uint = 2 "never read"
queue q shared fifo
enqueue { else -> q }
dispatch { q }
"#;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::Code;
    use crate::{check_source, Severity};

    #[test]
    fn codes_are_distinct_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} is listed twice");
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{code} is not kebab-case");
        }
    }

    #[test]
    fn every_example_draws_its_code() {
        let mut failures = Vec::new();
        for &code in Code::ALL {
            let reports = match check_source("example.policy", code.example()) {
                Ok(checked) => checked.warnings,
                Err(reports) => reports,
            };
            let codes: Vec<Code> = reports.iter().map(|r| r.diagnostic.code).collect();
            // Other errors would muddy the example; an error example that
            // also draws a warning is fine.
            let stray_errors = codes.iter().any(|c| *c != code && c.severity() == Severity::Error);
            if !codes.contains(&code) || stray_errors {
                failures.push(format!("the example of {code} draws {codes:?}:{}", code.example()));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The rows of the diagnostics table in `docs/language.md`: code → (kind, meaning).
    fn documented_codes() -> BTreeMap<String, (String, String)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/language.md");
        let docs = std::fs::read_to_string(path).expect("docs/language.md is readable");
        let section = docs.split("\n## 13. Diagnostics").nth(1).expect("docs/language.md has §13 Diagnostics");
        let section = section.split("\n## ").next().expect("split yields one piece");
        let mut rows = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            // `\|` is a pipe inside a cell.
            let cells: Vec<String> =
                line.replace("\\|", "\u{0}").split('|').map(|cell| cell.trim().replace('\u{0}', "|")).collect();
            let [_, code, kind, meaning, _] = cells.as_slice() else { panic!("a row of three cells: {line}") };
            let code = code.trim_matches('`').to_string();
            let previous = rows.insert(code.clone(), (kind.clone(), without_links(meaning)));
            assert!(previous.is_none(), "docs/language.md lists `{code}` twice");
        }
        rows
    }

    /// Markdown links `[text](#anchor)` reduced to their text.
    fn without_links(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find("](").map(|i| open + i) else { break };
            let Some(end) = rest[close..].find(')').map(|i| close + i) else { break };
            out.push_str(&rest[..open]);
            out.push_str(&rest[open + 1..close]);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_documentation_lists_exactly_these_codes() {
        let documented = documented_codes();
        let defined: BTreeMap<String, (String, String)> = Code::ALL
            .iter()
            .map(|c| {
                let kind = if c.severity() == Severity::Error { "error" } else { "warning" };
                (c.as_str().to_string(), (kind.to_string(), c.description().to_string()))
            })
            .collect();
        for (code, row) in &defined {
            match documented.get(code) {
                None => panic!("docs/language.md §13 does not list `{code}`"),
                Some(doc) => {
                    assert_eq!(doc, row, "docs/language.md §13 describes `{code}` differently (kind, meaning)")
                }
            }
        }
        let extra: Vec<&String> = documented.keys().filter(|c| !defined.contains_key(*c)).collect();
        assert!(extra.is_empty(), "docs/language.md §13 lists codes that do not exist: {extra:?}");
    }

    #[test]
    fn links_are_reduced_to_their_text() {
        assert_eq!(without_links("see [§14](#14-reserved-names); [a](#b)[c](#d)"), "see §14; ac");
        assert_eq!(without_links("no link [here"), "no link [here");
    }
}
