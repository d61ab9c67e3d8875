//! Keywords end at a word boundary. Every word the grammar spells out
//! (read from `grammar.pest`, so that a new keyword is covered the day it is
//! added) is put as the prefix and the suffix of a name in every place a name
//! may stand, and must stay part of that name; and every keyword written
//! with a letter more where the grammar wants the keyword must not be taken
//! for it.

mod common;

use std::collections::BTreeSet;

use common::{render, root};
use schedc_compiler::{check_source, Code, Report};

/// The words the grammar spells out: every quoted literal that could start
/// a name.
fn grammar_keywords() -> BTreeSet<String> {
    let grammar = std::fs::read_to_string(root().join("compiler/src/grammar.pest")).expect("grammar is readable");
    let mut words = BTreeSet::new();
    for line in grammar.lines() {
        let code = line.split("//").next().expect("split yields one piece");
        for (i, literal) in code.split('"').enumerate() {
            let is_literal = i % 2 == 1;
            let word_like = literal.starts_with(|c: char| c.is_ascii_alphabetic())
                && literal.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if is_literal && word_like {
                words.insert(literal.to_string());
            }
        }
    }
    assert!(words.len() > 40, "too few keywords read from the grammar: {words:?}");
    words
}

/// Names made of `keyword` with other characters after or before it.
fn names_around(keyword: &str) -> [String; 5] {
    [
        format!("{keyword}q"),
        format!("{keyword}_q"),
        format!("{keyword}7"),
        format!("q{keyword}"),
        format!("q_{keyword}"),
    ]
}

/// What a policy with a name in its slot must do.
#[derive(Clone, Copy)]
enum Outcome {
    /// Check, perhaps with warnings.
    Checks,
    /// Fail only with this code, said of the whole name.
    FailsWhole(Code),
}

/// A policy with `X` for the name in one place where a name may stand, and
/// wherever else the same thing is referred to.
struct Template {
    place: &'static str,
    text: &'static str,
    outcome: Outcome,
}

/// The queue every template routes to; each template adds what its name needs.
const BASE: &str = "queue q shared fifo\n";

const TEMPLATES: &[Template] = &[
    Template { place: "the scheduler's name", text: "scheduler X \"s\"\ndispatch { q }\nenqueue { else -> q }\n", outcome: Outcome::Checks },
    Template {
        place: "a parameter, read in a route",
        text: "scheduler s \"s\"\nparam X: bool = true \"p\"\ndispatch { q }\nenqueue { X -> q  else -> q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a parameter in a `when` condition",
        text: "scheduler s \"s\"\nparam X: bool = true \"p\"\nselect_cpu { prev when X  any when not X found -> q }\ndispatch { q }\nenqueue { else -> q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a parameter in `if … then … else`",
        text: "scheduler s \"s\"\nparam X: duration = 1ms \"p\" in 1ms..2ms\ndispatch { q }\nenqueue { else -> q }\nslice = if X > X then X else X\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a parameter in `and`, `or` and `is`",
        text: "scheduler s \"s\"\nparam X: bool = true \"p\"\nclass c \"c\"\non running { task.class = c }\ndispatch { q }\nenqueue { X and X or X -> q  task is c and X -> q  else -> q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a parameter as a starvation limit",
        text: "scheduler s \"s\" timeout 5s\nparam X: duration = 1ms \"p\" in 1ms..2ms\nqueue r shared fifo\nenqueue { task.kthread -> r  else -> q }\ndispatch { r  q starve after X }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a parameter as a timeout",
        text: "scheduler s \"s\" timeout X\nparam X: duration = 1s \"p\"\ndispatch { q }\nenqueue { else -> q }\n",
        outcome: Outcome::FailsWhole(Code::NotConstant),
    },
    Template {
        place: "a queue, declared, routed to, served and counted",
        text: "scheduler s \"s\"\nqueue X per_cpu fifo\ncounter n = queue.X.inserted \"n\"\nselect_cpu { any found -> X kick }\nenqueue { queue.X.len > 0 -> X kick  else -> q }\ndispatch { X  q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a class, declared, assigned, tested and preempting",
        text: "scheduler s \"s\"\nclass X \"c\"\non running { task.class = X }\ndispatch { q }\nenqueue { task is X -> q  task.class == X -> q  else -> q }\npreempt X\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a per-task variable, assigned and read",
        text: "scheduler s \"s\"\ntask X: uint = 0\non stopping { task.X += 1 }\ndispatch { q }\nenqueue { task.X > 1 -> q  else -> q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a global, assigned and traced",
        text: "scheduler s \"s\"\nglobal X: int = 0\non running { X -= 1  trace \"t\", X }\ndispatch { q }\nenqueue { X < 0 -> q  else -> q }\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a counter and a gauge",
        text: "scheduler s \"s\"\ncounter X \"n\"\ngauge Xg = slice \"g\"\non running { X += 1 }\ndispatch { q }\nenqueue { else -> q }\nslice = 5ms\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a `let` in an event, an `every` and a formula",
        text: "scheduler s \"s\"\nglobal g: duration = 0ns\non stopping { let X = 1ms  every 1s { g = X } if X > 0ns { g = X } else { g = X } }\ndispatch { q }\nenqueue { else -> q }\nvtime charge { let X = 2ms  X }\nqueue v shared vtime\nslice { let X = 5ms\n X }\nvtime lag = g\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "an argument and a function name",
        text: "scheduler s \"s\"\nparam d: duration = 1ms \"d\"\ndispatch { q }\nenqueue { else -> q }\nslice = X(d, 1ms)\n",
        outcome: Outcome::FailsWhole(Code::UnknownName),
    },
    Template {
        place: "a constant, read in a route and a formula",
        text: "scheduler s \"s\"\nconst X = 2ms\ndispatch { q }\nenqueue { X > 1ms -> q  else -> q }\nslice = X\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a function and its argument",
        text: "scheduler s \"s\"\nfn X(Xg: duration) = Xg * 2\ndispatch { q }\nenqueue { X(1ms) > 1ms -> q  else -> q }\nslice = X(2ms)\n",
        outcome: Outcome::Checks,
    },
    Template {
        place: "a task fact",
        text: "scheduler s \"s\"\ndispatch { q }\nenqueue { task.X > 0 -> q  else -> q }\n",
        outcome: Outcome::FailsWhole(Code::UnknownName),
    },
];

/// The diagnostics of a policy, or none if it checks.
fn diagnostics(src: &str) -> Vec<Report> {
    match check_source("keywords.policy", src) {
        Ok(_) => Vec::new(),
        Err(reports) => reports,
    }
}

#[test]
fn a_keyword_at_either_end_of_a_name_stays_part_of_the_name() {
    let keywords = grammar_keywords();
    let mut failures = Vec::new();
    for template in TEMPLATES {
        let policy = format!("{BASE}{}", template.text);
        for keyword in &keywords {
            for name in names_around(keyword) {
                // `Xg` above is a second name made from the first.
                let src = policy.replace('X', &name);
                let reports = diagnostics(&src);
                let errors: Vec<&Report> = reports.iter().filter(|r| r.diagnostic.is_error()).collect();
                let fine = match template.outcome {
                    Outcome::Checks => errors.is_empty(),
                    Outcome::FailsWhole(code) => {
                        !errors.is_empty()
                            && errors.iter().all(|r| {
                                let d = &r.diagnostic;
                                d.code == code && src[d.span.start..d.span.end] == name
                            })
                    }
                };
                if !fine {
                    failures.push(format!("`{name}` as {}:\n{src}\n{}", template.place, render(&reports)));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures; the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

/// Policies that together hold every keyword of the grammar where the
/// grammar wants it.
const EVERY_KEYWORD: &[&str] = &[
    r#"scheduler every_keyword "every keyword" timeout 5s with partial
param d: duration = 1ms "d" in 1ms..2ms
param n: int = 1 "n" in -1..2
param u: uint = 1 "u"
queue c per_cpu fifo
queue v shared vtime
class k "k"
task t: time = system.now
task b: bool = false
global g: duration = 5ms
cpu w: uint = 0
counter m = queue.v.inserted "m"
gauge e: int = 0 "e"
gauge f = slice "f"
const z = 1ms
fn h(a: duration) = a + z
on runnable { if event.wakeup { task.b = task.comm starts_with "k" } }
on quiescent { if event.sleep { e += 1 } }
on join { task.b = true }
on wakeup { if event.sync or not task.b { let l = 1us  g = l } else { g = 1ns } }
on enqueue { every 1s { trace "t", e } }
on running { task.t = system.now  cpu.w = cpu(int(cpu.w)).w + cpu(0).queue.c.len }
on tick { if task.slice_left > d { task.slice_left = d } }
on timer d { e += 1 }
on cpu_release { reenqueue local }
on stopping { if task is k and task.b { e += 1 } }
select_cpu { pinned  prev_core when system.smt  idle_core  prev  any  found -> c kick }
enqueue { else -> v }
dispatch { c  v starve after 5ms }
slice = if task.b then h(d) else g
vtime charge = 1ms * u
vtime lag = 1ms * n
preempt k at lowest
"#,
    r#"scheduler default_selection "the default CPU selection"
queue q shared fifo
select_cpu { default found -> q }
enqueue { else -> q }
dispatch { q }
"#,
    r#"scheduler dispatch_forms "earliest, round robin, keep running"
queue a shared vtime
queue b shared vtime
queue c shared fifo
queue d shared fifo
select_cpu { prev  found -> local }
enqueue { task.kthread -> a  task.nice < 0 -> b  task.nvcsw > 5 -> c  else -> d }
dispatch { earliest(a, b)  round_robin(c: 2, d: 1)  keep_running }
vtime charge = 1ms
vtime deadline = 2ms
"#,
    r#"scheduler topology_forms "queues per LLC and node, waker and LLC preferences, enqueue idle pick"
queue l per_llc fifo
queue n per_node fifo
select_cpu { waker  prev_llc  found -> l }
enqueue { not event.cpu_selected -> l idle  else -> n }
dispatch { l  n }
"#,
    r#"scheduler cpu_sets "CPU sets: membership, idle picks, dispatch conditions"
cpuset little = 0-1, 3
cpuset everyone = all "every CPU"
cpuset moving = 2 dynamic
queue q shared fifo
on timer 10ms { moving = first(system.nr_cpus / 2) }
select_cpu { any in little when event.prev_cpu in little  idle_core in everyone  any in moving  found -> q }
enqueue { cpu in little -> q idle in little  else -> q }
dispatch { q when size(little) > 1  keep_running when task_free }
global task_free: bool = true
"#,
];

/// The words of a policy outside strings and comments, with where they
/// start; a duration such as `5ms` counts as its unit.
fn words(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < src.len() {
        let rest = &src[at..];
        let c = rest.chars().next().expect("not at the end");
        if c == '"' || c == '#' {
            let end = if c == '"' {
                1 + rest[1..].find('"').expect("closed string") + 1
            } else {
                rest.find('\n').unwrap_or(rest.len())
            };
            at += end;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let digits = rest[..len].find(|c: char| !c.is_ascii_digit()).unwrap_or(len);
            out.push((at + digits, &rest[digits..len]));
            at += len;
        } else {
            at += c.len_utf8();
        }
    }
    out
}

#[test]
fn a_keyword_with_a_letter_more_is_not_the_keyword() {
    let keywords = grammar_keywords();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for policy in EVERY_KEYWORD {
        let errors: Vec<Report> = diagnostics(policy).into_iter().filter(|r| r.diagnostic.is_error()).collect();
        assert!(errors.is_empty(), "the reference policy checks:\n{}", render(&errors));
        for (at, word) in words(policy) {
            if !keywords.contains(word) {
                continue;
            }
            covered.insert(word.to_string());
            let end = at + word.len();
            let src = format!("{}q{}", &policy[..end], &policy[end..]);
            let reports = diagnostics(&src);
            // Split, the keyword would be taken and the rest of the word
            // reported on its own, from inside the word.
            let inside = reports.iter().find(|r| (at + 1..=end).contains(&r.diagnostic.span.start));
            if reports.iter().all(|r| !r.diagnostic.is_error()) || inside.is_some() {
                failures.push(format!("`{word}q` at byte {at}:\n{}", render(&reports)));
            }
        }
    }
    let missing: Vec<&String> = keywords.difference(&covered).collect();
    assert!(missing.is_empty(), "add these keywords to EVERY_KEYWORD: {missing:?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
