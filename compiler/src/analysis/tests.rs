use super::*;

const POLICY: &str = r#"scheduler demo "a demo" timeout 5s
param slice_max: duration = 5ms "longest slice a task gets" in 1us..1s
queue fast shared fifo   # tasks that wake often
queue slow shared vtime
class quick "wakes up often"
# switches at the last sample
task snap: uint = task.nvcsw
global seen: uint = 0
counter nr_fast = queue.fast.inserted "tasks queued as quick"
on wakeup {
    if event.sync { task.class = quick }
    let seen = 1
    task.snap = seen
}
on running { seen += 1 }
enqueue {
    task is quick -> fast
    else -> slow
}
dispatch {
    fast
    slow starve after slice_max
}
slice = min(slice_max, 10ms) + queue.fast.len * 1us
"#;

/// The byte offset of the `nth` (from 0) occurrence of `needle`, plus `into`.
fn at(needle: &str, nth: usize, into: usize) -> usize {
    POLICY.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle} #{nth} not in the policy")).0 + into
}

fn texts(spans: &[Span]) -> Vec<&'static str> {
    spans.iter().map(|s| &POLICY[s.start..s.end]).collect()
}

fn labels(candidates: &[Candidate]) -> Vec<&str> {
    candidates.iter().map(|c| c.label.as_str()).collect()
}

fn complete_after(text: &str) -> Vec<Candidate> {
    let src = format!("{POLICY}{text}");
    Analysis::new(&src).completions(src.len())
}

#[test]
fn indexes_every_declaration() {
    let a = Analysis::new(POLICY);
    let names: Vec<(SymbolKind, &str)> = a.symbols().iter().map(|s| (s.kind, s.name.as_str())).collect();
    assert_eq!(
        names,
        [
            (SymbolKind::Param, "slice_max"),
            (SymbolKind::Queue, "fast"),
            (SymbolKind::Queue, "slow"),
            (SymbolKind::Class, "quick"),
            (SymbolKind::TaskVar, "snap"),
            (SymbolKind::Global, "seen"),
            (SymbolKind::Counter, "nr_fast"),
        ]
    );
    assert_eq!(a.symbols()[0].signature, "param slice_max: duration = 5ms in 1us..1s");
    assert_eq!(a.symbols()[4].doc, "switches at the last sample");
}

#[test]
fn finds_the_definition_of_a_queue_from_a_route_a_serve_and_a_binding() {
    let a = Analysis::new(POLICY);
    let decl = Span::new(at("fast", 0, 0), at("fast", 0, 4));
    for use_site in [at("-> fast", 0, 4), at("    fast", 0, 6), at("queue.fast.inserted", 0, 7)] {
        assert_eq!(a.definition(use_site), Some(decl), "from offset {use_site}");
    }
}

#[test]
fn references_follow_scopes() {
    let a = Analysis::new(POLICY);
    // `seen` inside `on wakeup` after `let seen` is the local, not the global.
    let refs = a.references(at("global seen", 0, 7), true);
    assert_eq!(refs.len(), 2, "{:?}", texts(&refs));
    assert_eq!(refs[0].start, at("global seen", 0, 7));
    assert_eq!(refs[1].start, at("seen += 1", 0, 0));
    let refs = a.references(at("quick", 0, 0), false);
    assert_eq!(refs.iter().map(|s| s.start).collect::<Vec<_>>(), [at("= quick", 0, 2), at("is quick", 0, 3)]);
}

#[test]
fn task_variables_are_their_own_namespace() {
    let a = Analysis::new(POLICY);
    let refs = a.references(at("task.snap", 0, 6), true);
    assert_eq!(texts(&refs), ["snap", "snap"]);
    assert_eq!(refs[0].start, at("task snap", 0, 5));
}

#[test]
fn hovers_show_type_unit_and_doc() {
    let a = Analysis::new(POLICY);
    let param = a.hover(at("after slice_max", 0, 8)).expect("hover on a parameter");
    assert!(param.markdown.contains("param slice_max: duration = 5ms in 1us..1s"), "{}", param.markdown);
    assert!(param.markdown.contains("longest slice a task gets"));
    assert!(param.markdown.contains("Unit: nanoseconds"));

    let fact = a.hover(at("event.sync", 0, 7)).expect("hover on a fact");
    assert_eq!(&POLICY[fact.span.start..fact.span.end], "event.sync");
    assert!(fact.markdown.starts_with("```schedc\nevent.sync: bool\n```"), "{}", fact.markdown);
    assert!(!fact.markdown.contains("Unit"), "a bool has no unit");

    let nvcsw = a.hover(at("task.nvcsw", 0, 1)).expect("hover on `task` of a fact");
    assert!(nvcsw.markdown.contains("task.nvcsw: uint") && nvcsw.markdown.contains("Unit: none (a count)"));

    let len = a.hover(at("queue.fast.len", 0, 12)).expect("hover on a queue field");
    assert!(len.markdown.contains("queue.fast.len: uint"), "{}", len.markdown);

    let queue = a.hover(at("fast", 0, 1)).expect("hover on a queue");
    assert!(queue.markdown.contains("queue fast shared fifo"));
    assert!(queue.markdown.contains("arrival order") && queue.markdown.contains("tasks that wake often"));

    assert!(a.hover(at("10ms", 0, 1)).is_none(), "a literal is not a name");
}

#[test]
fn completes_facts_queues_classes_and_keywords() {
    let task = complete_after("on stopping { x = task.");
    assert!(labels(&task).contains(&"nvcsw") && labels(&task).contains(&"snap"), "{:?}", labels(&task));
    assert_eq!(labels(&complete_after("on stopping { x = system.n")), ["now", "nr_cpus", "smt", "vtime_now"]);
    assert_eq!(
        labels(&complete_after("on wakeup { x = event.")),
        [
            "prev_cpu",
            "sync",
            "runnable",
            "wakeup",
            "reenqueue",
            "last",
            "cpu_selected",
            "found_cpu",
            "hardirq",
            "softirq",
            "sleep"
        ]
    );
    assert_eq!(
        labels(&complete_after("on wakeup { x = waker.")),
        ["pid", "tgid", "ppid", "comm", "class", "realtime", "kthread", "snap"]
    );
    assert_eq!(labels(&complete_after("slice = queue.")), ["fast", "slow"]);
    assert_eq!(labels(&complete_after("slice = queue.slow.")), ["len", "inserted"]);
    assert_eq!(labels(&complete_after("enqueue {\n    else -> ")), ["fast", "slow"]);
    assert_eq!(labels(&complete_after("enqueue {\n    task is q")), ["quick", "none"]);
    assert_eq!(labels(&complete_after("dispatch {\n    ")), ["fast", "slow"]);
    assert_eq!(
        labels(&complete_after("select_cpu {\n    ")),
        ["pinned", "prev_core", "idle_core", "prev", "prev_llc", "waker", "any", "default", "found"]
    );
    assert_eq!(labels(&complete_after("param x: ")), ["duration", "time", "int", "uint", "bool"]);
    let items = complete_after("pre");
    assert!(labels(&items).contains(&"preempt") && labels(&items).contains(&"select_cpu"));
    assert!(items[0].detail.contains("looks like"), "{:?}", items[0]);
    let statements = complete_after("on running {\n    ");
    assert!(["let", "if", "every", "trace", "seen", "task", "min", "first"]
        .iter()
        .all(|w| labels(&statements).contains(w)));
    assert!(complete_after("# a comment about task.").is_empty());
}

#[test]
fn keeps_answering_while_an_item_is_broken() {
    let src = format!("{POLICY}on running {{ seen = task. }}\n");
    let a = Analysis::new(&src);
    assert_eq!(a.definition(at("-> fast", 0, 4)), Some(Span::new(at("fast", 0, 0), at("fast", 0, 4))));
}

#[test]
fn a_cursor_just_after_a_name_still_finds_it() {
    let a = Analysis::new(POLICY);
    let end = at("task is quick", 0, 13);
    assert_eq!(a.definition(end), Some(Span::new(at("quick", 0, 0), at("quick", 0, 5))));
}

fn shipped_policies() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut policies: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the policies folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("readable")))
        .collect();
    policies.sort();
    assert!(policies.len() >= 4, "the shipped policies are missing");
    policies
}

#[test]
fn every_use_in_the_shipped_policies_leads_back_to_its_declaration() {
    for (name, src) in shipped_policies() {
        let a = Analysis::new(&src);
        for o in a.occurrences() {
            if let Target::Symbol(i) = o.target {
                assert_eq!(a.definition(o.span.start), Some(a.symbols()[i].span), "{name}: at {}", o.span.start);
                assert!(a.references(o.span.start, true).contains(&o.span), "{name}: at {}", o.span.start);
            }
        }
        // A policy that checks serves every queue, so every queue is used.
        for queue in a.symbols().iter().filter(|s| s.kind == SymbolKind::Queue) {
            assert!(!a.references(queue.span.start, false).is_empty(), "{name}: queue {} unused", queue.name);
        }
    }
}

#[test]
fn any_offset_of_any_prefix_is_answered_without_panicking() {
    for (_, src) in shipped_policies() {
        let whole = Analysis::new(&src);
        for offset in 0..=src.len() + 1 {
            whole.hover(offset);
            whole.references(offset, true);
            whole.completions(offset);
        }
        // Every line boundary, as if the policy were being typed.
        for (end, _) in src.match_indices('\n') {
            let prefix = &src[..end];
            Analysis::new(prefix).completions(prefix.len());
        }
    }
}

#[test]
fn per_cpu_variables_are_indexed_and_completed() {
    let src = "scheduler c \"c\"\nqueue q per_cpu fifo\ncpu load: uint = 0\non running { cpu.load += 1 }\nenqueue {\n    cpu(task.cpu).load > 1 -> q\n    else -> q\n}\ndispatch { q }\n";
    let a = Analysis::new(src);
    let decl = src.find("load").expect("declared");
    let uses: Vec<usize> = a.references(decl, false).iter().map(|s| s.start).collect();
    assert_eq!(uses, [src.find("cpu.load").unwrap() + 4, src.find("cpu(task.cpu).load").unwrap() + 14]);
    let at_use = src.find("(task.cpu).load").unwrap() + 12;
    assert_eq!(a.definition(at_use), Some(Span::new(decl, decl + 4)));
    let more = format!("{src}on stopping {{ x = cpu.");
    assert_eq!(
        labels(&Analysis::new(&more).completions(more.len())),
        ["util", "capacity", "perf", "smt_contended", "load"]
    );
}

#[test]
fn cpu_facts_have_hovers() {
    let src = "scheduler c \"c\"\nqueue q shared fifo\non tick { cpu.perf = cpu.capacity }\nenqueue {\n    cpu(task.cpu).smt_contended -> q\n    else -> q\n}\ndispatch { q }\n";
    let a = Analysis::new(src);
    let capacity = a.hover(src.find("cpu.capacity").unwrap() + 5).expect("hover on cpu.capacity");
    assert_eq!(&src[capacity.span.start..capacity.span.end], "cpu.capacity");
    assert!(
        capacity.markdown.contains("cpu.capacity: uint") && capacity.markdown.contains("1024"),
        "{}",
        capacity.markdown
    );
    let smt = a.hover(src.find("smt_contended").unwrap() + 2).expect("hover on cpu(CPU).smt_contended");
    assert_eq!(&src[smt.span.start..smt.span.end], "smt_contended");
    assert!(smt.markdown.contains("cpu.smt_contended: bool") && smt.markdown.contains("sibling"), "{}", smt.markdown);
}
