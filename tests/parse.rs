//! The parser: every construct of the language, and the shape of the syntax
//! tree it becomes. Expressions are compared as s-expressions, so that
//! precedence and associativity are easy to read: `a + b * c` is
//! `(+ a (* b c))`.

use schedc_compiler::ast::*;
use schedc_compiler::parse::parse;

// ---------------------------------------------------------------- helpers

/// Parses a policy that must have no syntax error.
fn items(src: &str) -> Vec<Item> {
    let (policy, errors) = parse(src);
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(errors.is_empty(), "syntax errors in {src:?}: {messages:?}");
    policy.items
}

fn item(src: &str) -> ItemKind {
    let mut all = items(src);
    assert_eq!(all.len(), 1, "one item in {src:?}");
    all.remove(0).kind
}

/// The expression of `slice = EXPR`.
fn expr(text: &str) -> Expr {
    match item(&format!("slice = {text}")) {
        ItemKind::Slice(Formula { stmts, result }) => {
            assert!(stmts.is_empty());
            result
        }
        other => panic!("not a slice: {other:?}"),
    }
}

/// The s-expression of `slice = EXPR`.
fn sx(text: &str) -> String {
    sexp(&expr(text))
}

/// The statements of `on running { STMTS }`.
fn stmts(text: &str) -> Vec<Stmt> {
    match item(&format!("on running {{\n{text}\n}}")) {
        ItemKind::On { event: Event::Running, body, .. } => body,
        other => panic!("not an event: {other:?}"),
    }
}

fn stmt(text: &str) -> StmtKind {
    let mut all = stmts(text);
    assert_eq!(all.len(), 1, "one statement in {text:?}");
    all.remove(0).kind
}

fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Duration(ns) => format!("{ns}ns"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Path(p) => p.text(),
        ExprKind::OnCpu { cpu, path } => format!("(on_cpu {} {})", sexp(cpu), path.text()),
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args.iter().map(sexp).collect();
            format!("({}{}{})", func.name, if args.is_empty() { "" } else { " " }, args.join(" "))
        }
        ExprKind::Neg(x) => format!("(neg {})", sexp(x)),
        ExprKind::Not(x) => format!("(not {})", sexp(x)),
        ExprKind::Binary { op, lhs, rhs } => format!("({} {} {})", op.symbol(), sexp(lhs), sexp(rhs)),
        ExprKind::Is { value, class } => format!("(is {} {})", sexp(value), class.name),
        ExprKind::InSet { cpu, set } => format!("(in {} {})", sexp(cpu), set.name),
        ExprKind::StartsWith { value, prefix } => format!("(starts_with {} {})", sexp(value), sexp(prefix)),
        ExprKind::Cond { cond, then, otherwise } => format!("(if {} {} {})", sexp(cond), sexp(then), sexp(otherwise)),
    }
}

fn text(src: &str, span: Span) -> &str {
    &src[span.start..span.end]
}

// ---------------------------------------------------------------- items

#[test]
fn cpuset_lists_cpus_and_ranges() {
    match item("cpuset little = 0-3, 6") {
        ItemKind::CpuSet { name, ranges, doc, dynamic } => {
            assert_eq!(name.name, "little");
            let parsed: Vec<(u128, u128)> = ranges.iter().map(|r| (r.low, r.high)).collect();
            assert_eq!(parsed, vec![(0, 3), (6, 6)]);
            assert!(doc.is_none());
            assert!(!dynamic);
        }
        other => panic!("not a cpuset: {other:?}"),
    }
    match item("cpuset primary = all \"preferred CPUs\"") {
        ItemKind::CpuSet { ranges, doc, .. } => {
            assert_eq!(CpuRange::list(&ranges), "all");
            assert_eq!(doc.expect("a doc string").value, "preferred CPUs");
        }
        other => panic!("not a cpuset: {other:?}"),
    }
    match item("cpuset active = 0-1 dynamic") {
        ItemKind::CpuSet { ranges, doc, dynamic, .. } => {
            assert_eq!(CpuRange::list(&ranges), "0-1");
            assert!(doc.is_none());
            assert!(dynamic);
        }
        other => panic!("not a cpuset: {other:?}"),
    }
}

#[test]
fn in_tests_a_cpu_against_a_set() {
    let policy = "scheduler s \"d\"\nenqueue {\n    task.cpu in little and cpu in big -> q\n    else -> q\n}\n";
    let (parsed, diags) = parse(policy);
    assert!(diags.is_empty(), "{diags:?}");
    let ItemKind::Enqueue { routes } = &parsed.items[1].kind else { panic!("not enqueue") };
    let cond = routes[0].condition.as_ref().expect("a condition");
    assert_eq!(sexp(cond), "(and (in task.cpu little) (in cpu big))");
}

#[test]
fn scheduler_with_and_without_timeout() {
    match item("scheduler fifo \"one queue\" timeout 5s") {
        ItemKind::Scheduler { name, description, timeout, flags } => {
            assert_eq!(name.name, "fifo");
            assert_eq!(description.value, "one queue");
            assert_eq!(sexp(&timeout.expect("a timeout")), "5000000000ns");
            assert!(flags.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match item("scheduler fifo \"one queue\" with enqueue_last, partial") {
        ItemKind::Scheduler { timeout, flags, .. } => {
            assert!(timeout.is_none());
            let words: Vec<&str> = flags.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(words, ["enqueue_last", "partial"]);
        }
        other => panic!("{other:?}"),
    }
    match item("scheduler fifo \"\"") {
        ItemKind::Scheduler { description, timeout, .. } => {
            assert_eq!(description.value, "");
            assert!(timeout.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn param_with_every_kind_of_range() {
    let param = |src: &str| match item(src) {
        ItemKind::Param(p) => p,
        other => panic!("{other:?}"),
    };
    let bound = |b: &Option<Bound>| b.as_ref().map(|b| (b.negative, sexp(&b.value)));

    let p = param("param slice_max: duration = 5ms \"longest slice\" in 1us..1s");
    assert_eq!(p.name.name, "slice_max");
    assert_eq!(p.ty.ty, ValueType::Duration);
    assert_eq!(sexp(&p.default), "5000000ns");
    assert_eq!(p.doc.value, "longest slice");
    assert_eq!(bound(&p.min), Some((false, "1000ns".to_string())));
    assert_eq!(bound(&p.max), Some((false, "1000000000ns".to_string())));

    let p = param("param n: int = -3 \"signed\" in -10..");
    assert_eq!(sexp(&p.default), "(neg 3)");
    assert_eq!(bound(&p.min), Some((true, "10".to_string())));
    assert_eq!(bound(&p.max), None);

    let p = param("param n: uint = 3 \"capped\" in ..100");
    assert_eq!(bound(&p.min), None);
    assert_eq!(bound(&p.max), Some((false, "100".to_string())));

    let p = param("param on_off: bool = true \"no range\"");
    assert_eq!(p.ty.ty, ValueType::Bool);
    assert!(p.min.is_none() && p.max.is_none());

    // The range needs no spaces, and a negative upper bound is one bound.
    let p = param("param n: int = -5 \"negative range\" in -10..-1");
    assert_eq!(bound(&p.min), Some((true, "10".to_string())));
    assert_eq!(bound(&p.max), Some((true, "1".to_string())));
}

#[test]
fn every_type_name() {
    for (word, ty) in [
        ("duration", ValueType::Duration),
        ("time", ValueType::Time),
        ("uint", ValueType::Uint),
        ("int", ValueType::Int),
        ("bool", ValueType::Bool),
    ] {
        match item(&format!("global g: {word} = 0")) {
            ItemKind::State { scope: Scope::Global, ty: t, .. } => assert_eq!(t.ty, ty),
            other => panic!("{other:?}"),
        }
    }
    // A chosen CPU's variable parses as a target, for the checker to refuse.
    match stmt("cpu(task.cpu + 1).load = 0") {
        StmtKind::Assign { target, on_cpu: Some(cpu), .. } => {
            assert_eq!((target.text(), sexp(&cpu)), ("load".to_string(), "(+ task.cpu 1)".to_string()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn chosen_cpu_reads() {
    for (src, want) in [
        ("cpu.load + 1", "(+ cpu.load 1)"),
        ("cpu(task.cpu).load", "(on_cpu task.cpu load)"),
        ("cpu ( event.prev_cpu ) . queue.q.len", "(on_cpu event.prev_cpu queue.q.len)"),
        ("cpu(cpu(0).next).load * 2", "(* (on_cpu (on_cpu 0 next) load) 2)"),
        ("cpus(1)", "(cpus 1)"),
    ] {
        assert_eq!(sexp(&expr(src)), want, "{src}");
    }
}

#[test]
fn queues_of_each_placement_and_order() {
    for (src, placement, order) in [
        ("queue a per_cpu fifo", Placement::PerCpu, Order::Fifo),
        ("queue b per_cpu vtime", Placement::PerCpu, Order::Vtime),
        ("queue c shared fifo", Placement::Shared, Order::Fifo),
        ("queue d shared vtime", Placement::Shared, Order::Vtime),
    ] {
        match item(src) {
            ItemKind::Queue { name, placement: p, order: o } => {
                assert_eq!((p, o), (placement, order), "{src}");
                assert_eq!(name.name, &src[6..7]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn class_task_and_global() {
    match item("class interactive \"wakes up often\"") {
        ItemKind::Class { name, doc } => {
            assert_eq!((name.name.as_str(), doc.value.as_str()), ("interactive", "wakes up often"))
        }
        other => panic!("{other:?}"),
    }
    match item("task nvcsw_snap: uint = task.nvcsw") {
        ItemKind::State { scope: Scope::Task, name, ty, init } => {
            assert_eq!(name.name, "nvcsw_snap");
            assert_eq!(ty.ty, ValueType::Uint);
            assert_eq!(sexp(&init), "task.nvcsw");
        }
        other => panic!("{other:?}"),
    }
    match item("global last: time = 0") {
        ItemKind::State { scope: Scope::Global, name, ty, init } => {
            assert_eq!((name.name.as_str(), ty.ty, sexp(&init)), ("last", ValueType::Time, "0".to_string()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn counters_and_gauges() {
    match item("counter nr_direct = queue.direct.inserted \"sent straight to a CPU\"") {
        ItemKind::Counter { name, bound, doc } => {
            assert_eq!(name.name, "nr_direct");
            assert_eq!(bound.expect("bound").text(), "queue.direct.inserted");
            assert_eq!(doc.value, "sent straight to a CPU");
        }
        other => panic!("{other:?}"),
    }
    match item("counter nr_events \"events\"") {
        ItemKind::Counter { bound, .. } => assert!(bound.is_none()),
        other => panic!("{other:?}"),
    }
    match item("gauge nr_running: uint = 0 \"tasks running\"") {
        ItemKind::Gauge { source: GaugeSource::Variable { ty, init }, doc, .. } => {
            assert_eq!((ty.ty, sexp(&init), doc.value.as_str()), (ValueType::Uint, "0".to_string(), "tasks running"));
        }
        other => panic!("{other:?}"),
    }
    match item("gauge slice_eff = slice \"effective slice\"") {
        ItemKind::Gauge { source: GaugeSource::Bound(path), .. } => assert_eq!(path.text(), "slice"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_event() {
    for (word, event) in [
        ("join", Event::Join),
        ("wakeup", Event::Wakeup),
        ("enqueue", Event::Enqueue),
        ("running", Event::Running),
        ("stopping", Event::Stopping),
    ] {
        let src = format!("on {word} {{ }}");
        match item(&src) {
            ItemKind::On { event: e, event_span, body } => {
                assert_eq!(e, event);
                assert_eq!(text(&src, event_span), word);
                assert!(body.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn select_cpu_with_preferences_or_default() {
    let src = "select_cpu {\n    pinned\n    prev_core when system.smt\n    idle_core\n    prev\n    any when not task.kthread\n    found -> direct kick\n}";
    match item(src) {
        ItemKind::SelectCpu(s) => {
            let kinds: Vec<PreferenceKind> = s.preferences.iter().map(|p| p.kind).collect();
            use PreferenceKind::*;
            assert_eq!(kinds, [Pinned, PrevCore, IdleCore, Prev, Any]);
            let whens: Vec<Option<String>> = s.preferences.iter().map(|p| p.when.as_ref().map(sexp)).collect();
            assert_eq!(whens, [None, Some("system.smt".into()), None, None, Some("(not task.kthread)".into())]);
            assert_eq!(text(src, s.preferences[1].span), "prev_core when system.smt");
            assert!(s.default_span.is_none());
            assert_eq!(s.found_queue.name, "direct");
            assert!(s.kick);
            assert_eq!(text(src, s.found_span), "found -> direct kick");
        }
        other => panic!("{other:?}"),
    }
    let src = "select_cpu { default found -> direct }";
    match item(src) {
        ItemKind::SelectCpu(s) => {
            assert!(s.preferences.is_empty());
            assert_eq!(text(src, s.default_span.expect("default")), "default");
            assert!(!s.kick);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn enqueue_routes_and_catch_all() {
    let src = "enqueue {\n    task.kthread and task.nr_cpus_allowed == 1 -> direct kick\n    task is interactive -> prio\n    else -> shared\n}";
    match item(src) {
        ItemKind::Enqueue { routes } => {
            let shape: Vec<(Option<String>, &str, bool)> =
                routes.iter().map(|r| (r.condition.as_ref().map(sexp), r.queue.name.as_str(), r.kick)).collect();
            assert_eq!(
                shape,
                [
                    (Some("(and task.kthread (== task.nr_cpus_allowed 1))".to_string()), "direct", true),
                    (Some("(is task interactive)".to_string()), "prio", false),
                    (None, "shared", false),
                ]
            );
            assert_eq!(text(src, routes[1].span), "task is interactive -> prio");
        }
        other => panic!("{other:?}"),
    }
    // An empty block parses; the checker asks for a catch-all.
    assert!(matches!(item("enqueue { }"), ItemKind::Enqueue { routes } if routes.is_empty()));
}

#[test]
fn dispatch_with_starvation_limits() {
    let src = "dispatch {\n    direct\n    prio starve after starvation_thresh\n    shared starve after 5ms\n}";
    match item(src) {
        ItemKind::Dispatch { serves } => {
            let shape: Vec<(&str, Option<String>)> =
                serves.iter().map(|s| (s.queue.name.as_str(), s.starve_after.as_ref().map(sexp))).collect();
            assert_eq!(
                shape,
                [("direct", None), ("prio", Some("starvation_thresh".into())), ("shared", Some("5000000ns".into()))]
            );
            assert_eq!(text(src, serves[2].span), "shared starve after 5ms");
        }
        other => panic!("{other:?}"),
    }
    // All on one line too.
    assert!(matches!(item("dispatch { a b c }"), ItemKind::Dispatch { serves } if serves.len() == 3));
}

#[test]
fn slice_as_expression_or_block() {
    assert_eq!(sx("slice_len"), "slice_len");
    match item("slice {\n    let n = queue.prio.len + 1\n    nr_waiting = n\n    max(slice_max / n, slice_min)\n}") {
        ItemKind::Slice(f) => {
            assert_eq!(f.stmts.len(), 2);
            assert!(matches!(&f.stmts[0].kind, StmtKind::Let { name, .. } if name.name == "n"));
            assert!(matches!(&f.stmts[1].kind, StmtKind::Assign { op: AssignOp::Set, .. }));
            assert_eq!(sexp(&f.result), "(max (/ slice_max n) slice_min)");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn vtime_charge_and_lag() {
    match item("vtime charge = (slice_max - task.slice_left) * 100 / task.weight") {
        ItemKind::Vtime { part: VtimePart::Charge, formula } => {
            assert_eq!(sexp(&formula.result), "(/ (* (- slice_max task.slice_left) 100) task.weight)");
        }
        other => panic!("{other:?}"),
    }
    match item("vtime lag { slice_lag }") {
        ItemKind::Vtime { part: VtimePart::Lag, formula } => assert_eq!(sexp(&formula.result), "slice_lag"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn preempt() {
    assert!(matches!(item("preempt brief"), ItemKind::Preempt { class, .. } if class.name == "brief"));
}

#[test]
fn the_shipped_policies_parse() {
    for name in ["bpfland", "fifo", "shortfirst", "vtime"] {
        let path = format!("{}/policies/{name}.policy", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(path).expect("readable");
        assert!(items(&src).len() > 5, "{name}");
    }
}

// ---------------------------------------------------------------- statements

#[test]
fn let_and_assignments() {
    match stmt("let rate = (task.nvcsw - task.nvcsw_snap) * 1s / elapsed") {
        StmtKind::Let { name, value } => {
            assert_eq!(name.name, "rate");
            assert_eq!(sexp(&value), "(/ (* (- task.nvcsw task.nvcsw_snap) 1000000000ns) elapsed)");
        }
        other => panic!("{other:?}"),
    }
    for (src, want) in
        [("nr_running += 1", AssignOp::Add), ("nr_running -= 1", AssignOp::Sub), ("task.class = none", AssignOp::Set)]
    {
        match stmt(src) {
            StmtKind::Assign { target, on_cpu: None, op, value } => {
                assert_eq!(op, want, "{src}");
                assert_eq!(format!("{} {} {}", target.text(), op.symbol(), sexp(&value)), src);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn if_else_and_else_if() {
    match stmt("if task is interactive { nr_interactive += 1 }") {
        StmtKind::If { cond, then, otherwise } => {
            assert_eq!(sexp(&cond), "(is task interactive)");
            assert_eq!(then.len(), 1);
            assert!(otherwise.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match stmt("if a { x = 1 } else { x = 2\n y = 3 }") {
        StmtKind::If { then, otherwise, .. } => assert_eq!((then.len(), otherwise.len()), (1, 2)),
        other => panic!("{other:?}"),
    }
    // `else if` nests an `if` as the only statement of the else branch.
    match stmt("if a { x = 1 } else if b { x = 2 } else { x = 3 }") {
        StmtKind::If { otherwise, .. } => match &otherwise[..] {
            [Stmt { kind: StmtKind::If { cond, otherwise: inner, .. }, .. }] => {
                assert_eq!(sexp(cond), "b");
                assert_eq!(inner.len(), 1);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_block() {
    match stmt("every 1s {\n    task.nvcsw_snap = task.nvcsw\n    if debug { trace \"x\" }\n}") {
        StmtKind::Every { period, body } => {
            assert_eq!(sexp(&period), "1000000000ns");
            assert_eq!(body.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn trace_with_zero_to_many_values() {
    for (src, n) in [
        ("trace \"hello\"", 0),
        ("trace \"one\", task.pid", 1),
        ("trace \"three\", task.pid, 1 + 2, x", 3),
        ("trace \"four\", a, b, c, d", 4),
    ] {
        match stmt(src) {
            StmtKind::Trace { message, args } => {
                assert_eq!(args.len(), n, "{src}");
                assert_eq!(message.value, src[7..].split('"').next().unwrap());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn statements_one_per_line_or_several_per_line() {
    assert_eq!(stmts("x = 1\ny = 2\n\n\nz = 3").len(), 3);
    // Nothing separates statements but white space.
    assert_eq!(stmts("x = 1 y = 2").len(), 2);
    // A statement may continue on the next line after an operator.
    match stmt("x = 1 +\n    2") {
        StmtKind::Assign { value, .. } => assert_eq!(sexp(&value), "(+ 1 2)"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- expressions

#[test]
fn arithmetic_precedence_and_associativity() {
    assert_eq!(sx("a + b * c"), "(+ a (* b c))");
    assert_eq!(sx("a * b + c"), "(+ (* a b) c)");
    assert_eq!(sx("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(sx("a - b - c"), "(- (- a b) c)");
    assert_eq!(sx("a / b / c"), "(/ (/ a b) c)");
    assert_eq!(sx("a / b % c * d"), "(* (% (/ a b) c) d)");
    assert_eq!(sx("a - b + c"), "(+ (- a b) c)");
    assert_eq!(sx("((a))"), "a");
}

#[test]
fn unary_minus() {
    assert_eq!(sx("-a"), "(neg a)");
    assert_eq!(sx("-a * b"), "(* (neg a) b)");
    assert_eq!(sx("a * -b"), "(* a (neg b))");
    assert_eq!(sx("- -a"), "(neg (neg a))");
    assert_eq!(sx("--a"), "(neg (neg a))");
    assert_eq!(sx("a - -1"), "(- a (neg 1))");
    assert_eq!(sx("-(a + b)"), "(neg (+ a b))");
    assert_eq!(sx("-5ms"), "(neg 5000000ns)");
}

#[test]
fn comparisons() {
    for op in ["==", "!=", "<", "<=", ">", ">="] {
        assert_eq!(sx(&format!("a + 1 {op} b * 2")), format!("({op} (+ a 1) (* b 2))"));
    }
    // A comparison does not chain.
    let (_, errors) = parse("slice = a < b < c");
    assert_eq!(errors.len(), 1);
}

#[test]
fn logic_precedence() {
    assert_eq!(sx("not a and b"), "(and (not a) b)");
    assert_eq!(sx("not (a and b)"), "(not (and a b))");
    assert_eq!(sx("a or b and c"), "(or a (and b c))");
    assert_eq!(sx("a and b or c"), "(or (and a b) c)");
    assert_eq!(sx("a and b and c"), "(and (and a b) c)");
    assert_eq!(sx("not a == b"), "(not (== a b))");
    assert_eq!(sx("not not a"), "(not (not a))");
    assert_eq!(sx("a < 1 and b > 2 or not c"), "(or (and (< a 1) (> b 2)) (not c))");
}

#[test]
fn keywords_end_at_word_boundaries() {
    // `notice`, `android`, `order`, `island` and `iffy` are names.
    assert_eq!(sx("notice"), "notice");
    assert_eq!(sx("android and order"), "(and android order)");
    assert_eq!(sx("island or iffy"), "(or island iffy)");
    assert_eq!(sx("then_x + else_y"), "(+ then_x else_y)");
    assert_eq!(sx("true_value"), "true_value");
}

#[test]
fn is_tests_a_class() {
    assert_eq!(sx("if task is brief then 1ms else 2ms"), "(if (is task brief) 1000000ns 2000000ns)");
    assert_eq!(sx("task is none"), "(is task none)");
    assert_eq!(sx("not task is brief"), "(not (is task brief))");
    assert_eq!(sx("task is a and task is b"), "(and (is task a) (is task b))");
}

#[test]
fn starts_with_binds_like_a_comparison() {
    assert_eq!(sx("task.comm starts_with \"kw\""), "(starts_with task.comm \"kw\")");
    assert_eq!(sx("not task.comm starts_with p or x"), "(or (not (starts_with task.comm p)) x)");
    assert_eq!(sx("starts_withx"), "starts_withx");
}

#[test]
fn conditional_expressions() {
    assert_eq!(sx("if c then x else y"), "(if c x y)");
    assert_eq!(sx("if a > b then a - b else 0ns"), "(if (> a b) (- a b) 0ns)");
    // The else branch extends as far as it can, and conditions nest.
    assert_eq!(sx("if a then b else c + d"), "(if a b (+ c d))");
    assert_eq!(sx("if a then b else if c then d else e"), "(if a b (if c d e))");
    assert_eq!(sx("(if a then b else c) + d"), "(+ (if a b c) d)");
    assert_eq!(sx("if if a then b else c then d else e"), "(if (if a b c) d e)");
}

#[test]
fn calls() {
    assert_eq!(sx("min(a, b)"), "(min a b)");
    assert_eq!(sx("clamp(ewma(x, y), 0, 8 * n)"), "(clamp (ewma x y) 0 (* 8 n))");
    assert_eq!(sx("f()"), "(f)");
    assert_eq!(sx("uint( task.pid )"), "(uint task.pid)");
    assert_eq!(sx("max(a,b) * 2"), "(* (max a b) 2)");
}

#[test]
fn dotted_paths() {
    let e = expr("queue.prio.len");
    match &e.kind {
        ExprKind::Path(p) => {
            let parts: Vec<&str> = p.parts.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(parts, ["queue", "prio", "len"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sx("task.nvcsw - system.nr_cpus"), "(- task.nvcsw system.nr_cpus)");
    assert_eq!(sx("event.sync"), "event.sync");
    // No white space inside a path.
    let (_, errors) = parse("slice = task . nvcsw");
    assert_eq!(errors.len(), 1);
}

#[test]
fn literals() {
    assert_eq!(sx("0"), "0");
    assert_eq!(sx("42"), "42");
    assert_eq!(sx("1_000_000"), "1000000");
    assert_eq!(sx("1__0_"), "10");
    assert_eq!(sx("true"), "true");
    assert_eq!(sx("false"), "false");
    assert_eq!(sx("\"a # not a comment\""), "\"a # not a comment\"");
    // Too large numbers saturate; the checker says they do not fit.
    assert_eq!(sx("999999999999999999999999999999999999999999"), u128::MAX.to_string());
}

#[test]
fn duration_units() {
    assert_eq!(sx("7ns"), "7ns");
    assert_eq!(sx("7us"), "7000ns");
    assert_eq!(sx("7ms"), "7000000ns");
    assert_eq!(sx("7s"), "7000000000ns");
    assert_eq!(sx("1_500us"), "1500000ns");
    assert_eq!(sx("7µs"), "7000ns");
    assert_eq!(sx("0ns"), "0ns");
    // A unit is part of the number: `5 ms` is two tokens, `5msx` is nothing.
    assert_eq!(parse("slice = 5 ms").1.len(), 1);
    assert_eq!(parse("slice = 5msx").1.len(), 1);
    assert_eq!(parse("slice = 5m").1.len(), 1);
}

#[test]
fn comments_anywhere_white_space_is() {
    let src = "# leading comment\nscheduler s \"d\" # after an item\n  timeout # inside an item\n 5s\n\non running { # after a brace\n  x = 1 # after a statement\n  # alone in a block\n}\n# trailing comment without a newline";
    let all = items(src);
    assert_eq!(all.len(), 2);
    match &all[1].kind {
        ItemKind::On { body, .. } => assert_eq!(body.len(), 1),
        other => panic!("{other:?}"),
    }
    // Item spans stop at the last token, not at the comment after it.
    assert_eq!(text(src, all[0].span), "scheduler s \"d\" # after an item\n  timeout # inside an item\n 5s");
    assert!(text(src, all[1].span).ends_with('}'));
}

// ---------------------------------------------------------------- spans

#[test]
fn expression_spans_cover_exactly_their_text() {
    let src = "slice = a + b * c   # comment\n";
    let e = match &items(src)[0].kind {
        ItemKind::Slice(f) => f.result.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(src, e.span), "a + b * c");
    let ExprKind::Binary { rhs, .. } = &e.kind else { panic!("{e:?}") };
    assert_eq!(text(src, rhs.span), "b * c");

    let src = "slice = if task.slice_left > 1ms then a else b  \n";
    let e = match &items(src)[0].kind {
        ItemKind::Slice(f) => f.result.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(src, e.span), "if task.slice_left > 1ms then a else b");
    let ExprKind::Cond { cond, .. } = &e.kind else { panic!("{e:?}") };
    assert_eq!(text(src, cond.span), "task.slice_left > 1ms");

    let src = "on running {\n    x += -y   # c\n}";
    match &items(src)[0].kind {
        ItemKind::On { body, .. } => {
            assert_eq!(text(src, body[0].span), "x += -y");
            let StmtKind::Assign { target, value, .. } = &body[0].kind else { panic!() };
            assert_eq!(text(src, target.span), "x");
            assert_eq!(text(src, value.span), "-y");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- recovery

#[test]
fn an_error_in_one_item_does_not_hide_the_others() {
    let src = "scheduler s \"d\"\nqueue q shared lifo\nclass c \"ok\"\nparam p duration = 1ms \"x\"\nslice = 5ms\n";
    let (policy, errors) = parse(src);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(text(src, errors[0].span), "lifo");
    assert_eq!(text(src, errors[1].span), "duration");
    let kinds: Vec<&str> = policy
        .items
        .iter()
        .map(|i| match i.kind {
            ItemKind::Scheduler { .. } => "scheduler",
            ItemKind::Class { .. } => "class",
            ItemKind::Slice(_) => "slice",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["scheduler", "class", "slice"]);
}

#[test]
fn recovery_resumes_only_at_an_item_keyword_in_the_first_column() {
    // The indented `queue` inside the broken block is not an item.
    let src = "on running {\n    x = = 1\n    queue q shared fifo\n}\nclass c \"ok\"\n";
    let (policy, errors) = parse(src);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(policy.items.len(), 1);
    assert!(matches!(policy.items[0].kind, ItemKind::Class { .. }));
}

#[test]
fn empty_and_comment_only_policies_have_no_items() {
    for src in ["", "\n\n", "# nothing\n# at all", "   \t\r\n"] {
        let (policy, errors) = parse(src);
        assert!(policy.items.is_empty() && errors.is_empty(), "{src:?}");
    }
}

#[test]
fn an_item_missing_its_end_does_not_swallow_the_next_line() {
    let src = "class brief\ncounter n \"tasks\"\n";
    let (policy, errors) = parse(src);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(text(src, errors[0].span), "brief", "the string belongs after `brief`");
    assert!(matches!(&policy.items[..], [Item { kind: ItemKind::Counter { .. }, .. }]));
}
