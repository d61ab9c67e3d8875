//! Random valid policies: a proptest strategy builds policies from every
//! construct of the language, with correctly typed random expressions over
//! the names each policy declares; every one must pass the checker, and the
//! C generated from it must build with clang.
//!
//! The strategy draws an abstract policy (`Spec`): declarations, statements
//! and expression trees whose nodes are only "shapes" (`E::Leaf`/`E::Node`
//! with selector numbers). `Render` turns it into text, deciding at each
//! node, from the type wanted there and what is in scope, which operator,
//! name or literal the shape stands for. So any subtree renders as any type,
//! and proptest can shrink a failing policy by replacing subtrees with
//! leaves, dropping statements and declarations, and the rendering stays
//! valid.
//!
//! Cases: 300 when `CI` is set, 40 otherwise (`PROPTEST_CASES` overrides),
//! run on several threads, each its own proptest runner. A failure prints
//! the smallest policy proptest found and the seed
//! (`SCHEDC_RANDOM_SEED=...` reruns the same cases). Without a clang the
//! policies are only checked, after a `SKIPPED:` line for the build (under
//! CI a missing clang fails).

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use schedc_compiler::build::{build_object, Clang};
use schedc_compiler::{check_source, generate_c};
use schedc_testkit::{in_ci, skip_or_fail};

// ---------------------------------------------------------------- the abstract policy

/// An expression shape. A leaf is a literal, a name or a fact; a node an
/// operator, function, conversion or conditional; `Render` picks which.
#[derive(Clone, Debug)]
enum E {
    Leaf { kind: u8, pick: u16, lit: i64 },
    Node { form: u32, args: Vec<E> },
}

#[derive(Clone, Debug)]
enum S {
    Let { ty: u8, value: E },
    Assign { place: u16, op: u8, value: E },
    If { cond: E, then: Vec<S>, otherwise: Vec<S> },
    Every { period: u8, body: Vec<S> },
    Trace { message: u8, values: Vec<(u8, E)> },
}

#[derive(Clone, Debug)]
struct Param {
    ty: u8,
    default: i64,
    bounds: u8,
    below: u16,
    above: u16,
}

#[derive(Clone, Debug)]
enum Gauge {
    Variable { ty: u8, init: E },
    Slice,
}

#[derive(Clone, Debug)]
struct Formula {
    block: bool,
    stmts: Vec<S>,
    value: E,
}

#[derive(Clone, Debug)]
struct Select {
    /// `None` is `default`; else the preferences, each with its `when`.
    preferences: Option<Vec<(u8, Option<E>)>>,
    found: u8,
    kick: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    timeout: Option<u8>,
    params: Vec<Param>,
    /// (per_cpu, vtime order)
    queues: Vec<(bool, bool)>,
    classes: u8,
    globals: Vec<(u8, E)>,
    gauges: Vec<Gauge>,
    /// `None`: a counter rules add to; `Some(q)`: bound to queue q's inserts.
    counters: Vec<Option<u8>>,
    task_vars: Vec<(u8, E)>,
    /// join, wakeup, enqueue, running, stopping
    events: Vec<Option<Vec<S>>>,
    select: Option<Select>,
    routes: Vec<(E, u8, bool)>,
    catch_all: (u8, bool),
    /// Queues served beyond the routed ones, and the order: a sort key each.
    extra_served: Vec<u8>,
    order_keys: Vec<u16>,
    starve: Vec<Option<(u8, E)>>,
    slice: Option<Formula>,
    charge: Option<Formula>,
    lag: Option<Formula>,
    preempt: Option<u8>,
}

fn literal() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -20i64..100,
        2 => -100_000i64..1_000_000,
        1 => any::<i64>(),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = (any::<u8>(), any::<u16>(), literal()).prop_map(|(kind, pick, lit)| E::Leaf { kind, pick, lit });
    leaf.prop_recursive(4, 24, 3, |inner| {
        (any::<u32>(), prop::collection::vec(inner, 1..=3)).prop_map(|(form, args)| E::Node { form, args })
    })
}

fn stmts() -> impl Strategy<Value = Vec<S>> {
    let simple = prop_oneof![
        1 => (any::<u8>(), expr()).prop_map(|(ty, value)| S::Let { ty, value }),
        3 => (any::<u16>(), any::<u8>(), expr()).prop_map(|(place, op, value)| S::Assign { place, op, value }),
        1 => (any::<u8>(), prop::collection::vec((any::<u8>(), expr()), 0..=3)).prop_map(|(message, values)| S::Trace { message, values }),
    ];
    let stmt = simple.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            (expr(), prop::collection::vec(inner.clone(), 0..=3), prop::collection::vec(inner.clone(), 0..=2))
                .prop_map(|(cond, then, otherwise)| S::If { cond, then, otherwise }),
            (any::<u8>(), prop::collection::vec(inner, 0..=3)).prop_map(|(period, body)| S::Every { period, body }),
        ]
    });
    prop::collection::vec(stmt, 0..=4)
}

fn formula() -> impl Strategy<Value = Formula> {
    (any::<bool>(), stmts(), expr()).prop_map(|(block, stmts, value)| Formula { block, stmts, value })
}

fn spec() -> impl Strategy<Value = Spec> {
    let params = prop::collection::vec(
        (any::<u8>(), literal(), any::<u8>(), any::<u16>(), any::<u16>())
            .prop_map(|(ty, default, bounds, below, above)| Param { ty, default, bounds, below, above }),
        0..=4,
    );
    let gauges = prop::collection::vec(
        prop_oneof![3 => (any::<u8>(), expr()).prop_map(|(ty, init)| Gauge::Variable { ty, init }), 1 => Just(Gauge::Slice)],
        0..=3,
    );
    let select = (
        prop::option::of(prop::collection::vec((any::<u8>(), prop::option::of(expr())), 1..=5)),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(preferences, found, kick)| Select { preferences, found, kick });
    let declarations = (
        prop::option::of(any::<u8>()),
        params,
        prop::collection::vec((any::<bool>(), any::<bool>()), 1..=5),
        0u8..=3,
        prop::collection::vec((any::<u8>(), expr()), 0..=3),
        gauges,
        prop::collection::vec(prop::option::of(any::<u8>()), 0..=3),
        prop::collection::vec((any::<u8>(), expr()), 0..=3),
    );
    let behaviour = (
        prop::collection::vec(prop::option::weighted(0.5, stmts()), 5),
        prop::option::of(select),
        prop::collection::vec((expr(), any::<u8>(), any::<bool>()), 0..=4),
        (any::<u8>(), any::<bool>()),
        prop::collection::vec(any::<u8>(), 0..=2),
        prop::collection::vec(any::<u16>(), 5),
        prop::collection::vec(prop::option::weighted(0.4, (any::<u8>(), expr())), 5),
    );
    let formulas = (
        prop::option::of(formula()),
        prop::option::weighted(0.6, formula()),
        prop::option::of(formula()),
        prop::option::of(any::<u8>()),
    );
    (declarations, behaviour, formulas).prop_map(
        |(
            (timeout, params, queues, classes, globals, gauges, counters, task_vars),
            (events, select, routes, catch_all, extra_served, order_keys, starve),
            (slice, charge, lag, preempt),
        )| Spec {
            timeout,
            params,
            queues,
            classes,
            globals,
            gauges,
            counters,
            task_vars,
            events,
            select,
            routes,
            catch_all,
            extra_served,
            order_keys,
            starve,
            slice,
            charge,
            lag,
            preempt,
        },
    )
}

// ---------------------------------------------------------------- rendering

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Int,
    Uint,
    Dur,
    Time,
    Bool,
}

const VALUE_TYPES: [Ty; 5] = [Ty::Int, Ty::Uint, Ty::Dur, Ty::Time, Ty::Bool];
/// Types a parameter may have.
const PARAM_TYPES: [Ty; 4] = [Ty::Dur, Ty::Int, Ty::Uint, Ty::Bool];

impl Ty {
    fn keyword(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Uint => "uint",
            Ty::Dur => "duration",
            Ty::Time => "time",
            Ty::Bool => "bool",
        }
    }

    fn numeric(self) -> bool {
        self != Ty::Bool
    }
}

/// What an expression may read where it stands.
#[derive(Clone, Debug, Default)]
struct Ctx {
    task: bool,
    wakeup: bool,
    runnable: bool,
    /// Inside `every`: `elapsed` is known.
    elapsed: bool,
    /// `every` may start here (in `on` events, not nested).
    can_every: bool,
    locals: Vec<(String, Ty)>,
}

impl Ctx {
    fn constant() -> Ctx {
        Ctx::default()
    }

    fn task() -> Ctx {
        Ctx { task: true, ..Ctx::default() }
    }
}

/// A rendered expression and what it is made of.
struct Out {
    text: String,
    /// Only literals (a divisor like this must be non-zero).
    literal_only: bool,
    /// Only literals, parameters and arithmetic on them: the checker can
    /// compute it at the default parameters.
    constant: bool,
}

impl Out {
    fn literal(text: String) -> Out {
        Out { text, literal_only: true, constant: true }
    }

    fn name(text: String, param: bool) -> Out {
        Out { text, literal_only: false, constant: param }
    }

    fn fact(text: impl Into<String>) -> Out {
        Out { text: text.into(), literal_only: false, constant: false }
    }

    fn combine(text: String, parts: &[&Out]) -> Out {
        Out { text, literal_only: parts.iter().all(|p| p.literal_only), constant: parts.iter().all(|p| p.constant) }
    }

    /// A conditional is never computed by the checker.
    fn opaque(text: String) -> Out {
        Out { text, literal_only: false, constant: false }
    }
}

struct ParamInfo {
    name: String,
    ty: Ty,
    min: Option<i128>,
    max: Option<i128>,
}

/// Turns a `Spec` into policy text.
struct Render<'a> {
    spec: &'a Spec,
    params: Vec<ParamInfo>,
    globals: Vec<(String, Ty)>,
    gauges: Vec<(String, Ty)>,
    slice_gauges: Vec<String>,
    counters: Vec<String>,
    bound_counters: Vec<String>,
    task_vars: Vec<(String, Ty)>,
    queues: Vec<(String, bool, bool)>,
    classes: Vec<String>,
    has_vtime: bool,
    /// Whether facts (`task.*`, `system.*`, `queue.*`, …) may be read.
    facts: bool,
    timeout_ns: i128,
    next_local: usize,
    out: String,
}

const COMMS: &[&str] = &["", "bash", "kworker/0:1", "sshd", "abcdefghijklmno", "x y"];
const PERIODS: &[&str] = &["1ms", "10ms", "100ms", "1s", "250us"];
const TIMEOUTS: &[(&str, i128)] = &[
    ("1s", 1_000_000_000),
    ("5s", 5_000_000_000),
    ("10s", 10_000_000_000),
    ("30s", 30_000_000_000),
    ("2500ms", 2_500_000_000),
];

/// A duration literal from a number, its unit picked by the number: its
/// text, its value in ns, and the unit with its scale.
fn duration_literal(v: i64) -> (String, i128, &'static str, i128) {
    let (unit, scale) =
        [("ns", 1i128), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)][v.unsigned_abs() as usize % 4];
    let magnitude = match unit {
        "ns" => i128::from(v.unsigned_abs().min(i64::MAX as u64)),
        "s" => i128::from(v.unsigned_abs() % 1000),
        _ => i128::from(v.unsigned_abs() % 100_000),
    };
    let ns = magnitude * scale;
    if v < 0 && magnitude != 0 {
        (format!("-{magnitude}{unit}"), -ns, unit, scale)
    } else {
        (format!("{magnitude}{unit}"), ns, unit, scale)
    }
}

impl<'a> Render<'a> {
    fn new(spec: &'a Spec) -> Self {
        let queues: Vec<(String, bool, bool)> =
            spec.queues.iter().enumerate().map(|(i, (per_cpu, vtime))| (format!("q{i}"), *per_cpu, *vtime)).collect();
        let has_vtime = queues.iter().any(|q| q.2);
        let mut r = Render {
            spec,
            params: Vec::new(),
            globals: spec
                .globals
                .iter()
                .enumerate()
                .map(|(i, (ty, _))| (format!("g{i}"), VALUE_TYPES[*ty as usize % 5]))
                .collect(),
            gauges: Vec::new(),
            slice_gauges: Vec::new(),
            counters: Vec::new(),
            bound_counters: Vec::new(),
            task_vars: spec
                .task_vars
                .iter()
                .enumerate()
                .map(|(i, (ty, _))| (format!("t{i}"), VALUE_TYPES[*ty as usize % 5]))
                .collect(),
            queues,
            classes: (0..spec.classes).map(|i| format!("k{i}")).collect(),
            has_vtime,
            facts: true,
            timeout_ns: spec.timeout.map_or(30_000_000_000, |t| TIMEOUTS[t as usize % TIMEOUTS.len()].1),
            next_local: 0,
            out: String::new(),
        };
        for (i, g) in spec.gauges.iter().enumerate() {
            match g {
                Gauge::Variable { ty, .. } => r.gauges.push((format!("ga{i}"), VALUE_TYPES[*ty as usize % 5])),
                Gauge::Slice => r.slice_gauges.push(format!("gs{i}")),
            }
        }
        for (i, c) in spec.counters.iter().enumerate() {
            match c {
                None => r.counters.push(format!("c{i}")),
                Some(_) => r.bound_counters.push(format!("ci{i}")),
            }
        }
        r
    }

    // ------------------------------------------------------------ names

    /// The names of type `ty` an expression may read in `ctx`.
    fn names(&self, ty: Ty, ctx: &Ctx) -> Vec<Out> {
        let mut out = Vec::new();
        for p in self.params.iter().filter(|p| p.ty == ty) {
            out.push(Out::name(p.name.clone(), true));
        }
        for (name, t) in self.globals.iter().chain(&self.gauges) {
            if *t == ty {
                out.push(Out::name(name.clone(), false));
            }
        }
        if ty == Ty::Dur {
            out.extend(self.slice_gauges.iter().map(|n| Out::name(n.clone(), false)));
        }
        if ty == Ty::Uint {
            out.extend(self.counters.iter().chain(&self.bound_counters).map(|n| Out::name(n.clone(), false)));
        }
        if ctx.task {
            out.extend(
                self.task_vars.iter().filter(|(_, t)| *t == ty).map(|(n, _)| Out::name(format!("task.{n}"), false)),
            );
        }
        out.extend(ctx.locals.iter().filter(|(_, t)| *t == ty).map(|(n, _)| Out::name(n.clone(), false)));
        out
    }

    /// The built-in facts of type `ty` known in `ctx`.
    fn facts(&self, ty: Ty, ctx: &Ctx) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if !self.facts {
            return out;
        }
        match ty {
            Ty::Int => {
                if ctx.task {
                    out.extend(["task.pid".into(), "task.cpu".into()]);
                }
                if ctx.wakeup {
                    out.push("event.prev_cpu".into());
                }
            }
            Ty::Uint => {
                out.push("system.nr_cpus".into());
                out.extend(self.queues.iter().map(|(q, _, _)| format!("queue.{q}.len")));
                if ctx.task {
                    out.extend(["task.nvcsw".into(), "task.weight".into(), "task.nr_cpus_allowed".into()]);
                }
            }
            Ty::Dur => {
                if ctx.task {
                    out.extend(["task.vruntime".into(), "task.slice_left".into()]);
                }
                if self.has_vtime {
                    out.push("system.vtime_now".into());
                }
                if ctx.elapsed {
                    out.push("elapsed".into());
                }
            }
            Ty::Time => out.push("system.now".into()),
            Ty::Bool => {
                out.push("system.smt".into());
                if ctx.task {
                    out.push("task.kthread".into());
                }
                if ctx.wakeup {
                    out.push("event.sync".into());
                }
                if ctx.runnable {
                    out.push("event.runnable".into());
                }
            }
        }
        out
    }

    // ------------------------------------------------------------ expressions

    /// A literal of type `ty`. `bare` allows a bare number (it then takes
    /// the type of a non-literal operand next to it); otherwise counts are
    /// written `int(…)`/`uint(…)` so that they have their type on their own.
    fn literal(&self, ty: Ty, v: i64, bare: bool) -> Out {
        match ty {
            Ty::Int => {
                let text = if v < 0 { format!("-{}", v.unsigned_abs()) } else { v.to_string() };
                Out::literal(if bare { text } else { format!("int({text})") })
            }
            Ty::Uint => {
                let n = if v == i64::MIN { u64::MAX } else { v.unsigned_abs() };
                Out::literal(if bare { n.to_string() } else { format!("uint({n})") })
            }
            Ty::Dur => Out::literal(duration_literal(v).0),
            Ty::Bool => Out::literal(if v % 2 == 0 { "true" } else { "false" }.to_string()),
            Ty::Time if !self.facts => self.names(Ty::Time, &Ctx::constant()).into_iter().next().expect("a time name"),
            Ty::Time => Out::fact("system.now"),
        }
    }

    fn leaf(&self, kind: u8, pick: u16, lit: i64, ty: Ty, ctx: &Ctx, bare: bool) -> Out {
        let names = self.names(ty, ctx);
        let facts = self.facts(ty, ctx);
        let pick = pick as usize;
        let name = |names: Vec<Out>| {
            let n = names.len();
            names.into_iter().nth(pick % n).expect("in range")
        };
        match kind % 4 {
            0 if ty != Ty::Time => self.literal(ty, lit, bare),
            1 | 3 if !names.is_empty() => name(names),
            _ if !facts.is_empty() => Out::fact(facts[pick % facts.len()].clone()),
            _ if !names.is_empty() => name(names),
            _ => self.literal(ty, lit, bare),
        }
    }

    fn arg(args: &[E], i: usize) -> &E {
        const DEFAULT: E = E::Leaf { kind: 0, pick: 0, lit: 1 };
        args.get(i).unwrap_or(&DEFAULT)
    }

    /// An expression of type `ty`.
    fn expr(&self, e: &E, ty: Ty, ctx: &Ctx) -> Out {
        self.expr_bare(e, ty, ctx, false)
    }

    fn expr_bare(&self, e: &E, ty: Ty, ctx: &Ctx, bare: bool) -> Out {
        let (form, args) = match e {
            E::Leaf { kind, pick, lit } => return self.leaf(*kind, *pick, *lit, ty, ctx, bare),
            E::Node { form, args } => (*form, args.as_slice()),
        };
        let a = Self::arg(args, 0);
        let b = Self::arg(args, 1);
        let c = Self::arg(args, 2);
        let sub = (form >> 8) as usize;
        match ty {
            Ty::Int | Ty::Uint => match form % 7 {
                0 => self.arith(ty, ["+", "-", "*"][sub % 3], a, ty, b, ty, ctx),
                1 => self.division(ty, ["/", "%"][sub % 2], a, ty, b, ty, ctx),
                2 if ty == Ty::Int => {
                    let x = self.expr(a, Ty::Int, ctx);
                    Out::combine(format!("(-{})", x.text), &[&x])
                }
                3 if ty == Ty::Int => self.division(Ty::Int, "/", a, Ty::Dur, b, Ty::Dur, ctx),
                2..=4 => {
                    let from = [[Ty::Uint, Ty::Dur, Ty::Time], [Ty::Int, Ty::Dur, Ty::Time]]
                        [usize::from(ty == Ty::Uint)][sub % 3];
                    let x = self.expr(a, from, ctx);
                    Out::combine(format!("{}({})", ty.keyword(), x.text), &[&x])
                }
                5 => self.call(ty, sub, args, ctx),
                _ => self.cond(ty, a, b, c, ctx),
            },
            Ty::Dur => match form % 7 {
                0 => self.arith(ty, ["+", "-"][sub % 2], a, Ty::Dur, b, Ty::Dur, ctx),
                1 => {
                    let count = [Ty::Int, Ty::Uint][sub % 2];
                    if (sub / 2).is_multiple_of(2) {
                        self.arith(ty, "*", a, Ty::Dur, b, count, ctx)
                    } else {
                        self.arith(ty, "*", a, count, b, Ty::Dur, ctx)
                    }
                }
                2 => match sub % 4 {
                    0 => self.division(ty, "%", a, Ty::Dur, b, Ty::Dur, ctx),
                    1 => self.division(ty, "/", a, Ty::Dur, b, Ty::Uint, ctx),
                    2 => self.division(ty, "/", a, Ty::Dur, b, Ty::Int, ctx),
                    _ => self.division(ty, "%", a, Ty::Dur, b, [Ty::Int, Ty::Uint][sub / 4 % 2], ctx),
                },
                3 => self.arith(ty, "-", a, Ty::Time, b, Ty::Time, ctx),
                4 => {
                    let x = self.expr(a, Ty::Dur, ctx);
                    Out::combine(format!("(-{})", x.text), &[&x])
                }
                5 => self.call(ty, sub, args, ctx),
                _ => self.cond(ty, a, b, c, ctx),
            },
            Ty::Time => match form % 4 {
                0 => match sub % 3 {
                    0 => self.arith(ty, "+", a, Ty::Time, b, Ty::Dur, ctx),
                    1 => self.arith(ty, "+", a, Ty::Dur, b, Ty::Time, ctx),
                    _ => self.arith(ty, "-", a, Ty::Time, b, Ty::Dur, ctx),
                },
                1 => self.call(ty, sub, args, ctx),
                2 => self.cond(ty, a, b, c, ctx),
                _ => self.leaf(1, sub as u16, 0, ty, ctx, false),
            },
            Ty::Bool => match form % 7 {
                0 => {
                    let (x, y) = (self.expr(a, Ty::Bool, ctx), self.expr(b, Ty::Bool, ctx));
                    Out::combine(format!("({} {} {})", x.text, ["and", "or"][sub % 2], y.text), &[&x, &y])
                }
                1 => {
                    let x = self.expr(a, Ty::Bool, ctx);
                    Out::combine(format!("(not {})", x.text), &[&x])
                }
                2 | 3 => {
                    let operand = VALUE_TYPES[sub % 5];
                    let ops: &[&str] =
                        if operand == Ty::Bool { &["==", "!="] } else { &["==", "!=", "<", "<=", ">", ">="] };
                    let op = ops[sub / 5 % ops.len()];
                    self.arith(Ty::Bool, op, a, operand, b, operand, ctx)
                }
                4 if ctx.task && !self.classes.is_empty() => {
                    let class = self.class_expr(b, ctx);
                    let text = match sub % 3 {
                        0 => format!("(task is {})", self.class_name(sub / 3)),
                        1 => format!("(task.class == {})", class.text),
                        _ => format!("({} != task.class)", class.text),
                    };
                    Out::opaque(text)
                }
                5 if ctx.task => {
                    let comm = COMMS[sub % COMMS.len()];
                    Out::opaque(if (sub / 8).is_multiple_of(2) {
                        format!("(task.comm == \"{comm}\")")
                    } else {
                        format!("(\"{comm}\" != task.comm)")
                    })
                }
                _ => self.cond(ty, a, b, c, ctx),
            },
        }
    }

    /// `(a OP b)` with operand types given; one side may be a bare literal
    /// when the other is not a literal.
    #[allow(clippy::too_many_arguments)]
    fn arith(&self, _ty: Ty, op: &str, a: &E, ta: Ty, b: &E, tb: Ty, ctx: &Ctx) -> Out {
        let x = self.expr(a, ta, ctx);
        let y = self.expr_bare(b, tb, ctx, !x.literal_only && ta == tb);
        Out::combine(format!("({} {op} {})", x.text, y.text), &[&x, &y])
    }

    /// `(a / b)` or `(a % b)`: a divisor made only of literals is kept off
    /// zero with `max(…, 1)` (a constant zero divisor is an error).
    #[allow(clippy::too_many_arguments)]
    fn division(&self, _ty: Ty, op: &str, a: &E, ta: Ty, b: &E, tb: Ty, ctx: &Ctx) -> Out {
        let x = self.expr(a, ta, ctx);
        let mut y = self.expr_bare(b, tb, ctx, !x.literal_only && ta == tb);
        if y.literal_only {
            let one = if tb == Ty::Dur { "1ns" } else { "1" };
            y.text = format!("max({}, {one})", y.text);
        }
        Out::combine(format!("({} {op} {})", x.text, y.text), &[&x, &y])
    }

    fn call(&self, ty: Ty, sub: usize, args: &[E], ctx: &Ctx) -> Out {
        let (name, arity) = [("min", 2), ("max", 2), ("clamp", 3), ("ewma", 2)][sub % 4];
        let mut outs: Vec<Out> = (0..arity).map(|i| self.expr(Self::arg(args, i), ty, ctx)).collect();
        if name == "clamp" && outs[1].literal_only && outs[2].literal_only {
            // Constant bounds the wrong way round are an error (`bad-clamp`).
            outs[2].text = format!("max({}, {})", outs[1].text, outs[2].text);
        }
        let text = format!("{name}({})", outs.iter().map(|o| o.text.as_str()).collect::<Vec<_>>().join(", "));
        Out::combine(text, &outs.iter().collect::<Vec<_>>())
    }

    fn cond(&self, ty: Ty, a: &E, b: &E, c: &E, ctx: &Ctx) -> Out {
        let (k, x, y) = (self.expr(a, Ty::Bool, ctx), self.expr(b, ty, ctx), self.expr(c, ty, ctx));
        Out::opaque(format!("(if {} then {} else {})", k.text, x.text, y.text))
    }

    fn class_name(&self, pick: usize) -> String {
        if self.classes.is_empty() || pick % (self.classes.len() + 1) == self.classes.len() {
            "none".to_string()
        } else {
            self.classes[pick % (self.classes.len() + 1)].clone()
        }
    }

    /// A class value: a class, `none`, `task.class` or a conditional.
    fn class_expr(&self, e: &E, ctx: &Ctx) -> Out {
        match e {
            E::Node { form, args } if form % 3 == 0 => {
                let k = self.expr(Self::arg(args, 0), Ty::Bool, ctx);
                let x = self.class_expr(Self::arg(args, 1), ctx);
                let y = self.class_expr(Self::arg(args, 2), ctx);
                Out::opaque(format!("(if {} then {} else {})", k.text, x.text, y.text))
            }
            E::Leaf { kind, .. } if kind % 3 == 0 && ctx.task && !self.classes.is_empty() => {
                Out::opaque("task.class".into())
            }
            E::Leaf { pick, .. } => Out::opaque(self.class_name(*pick as usize)),
            E::Node { form, .. } => Out::opaque(self.class_name(*form as usize >> 2)),
        }
    }

    // ------------------------------------------------------------ statements

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// The places an assignment may write in `ctx`, with their types (`None`
    /// for `task.class`) and whether only `+=` is allowed.
    fn places(&self, ctx: &Ctx) -> Vec<(String, Option<Ty>, bool)> {
        let mut out: Vec<(String, Option<Ty>, bool)> = Vec::new();
        out.extend(self.globals.iter().chain(&self.gauges).map(|(n, t)| (n.clone(), Some(*t), false)));
        out.extend(self.counters.iter().map(|n| (n.clone(), Some(Ty::Uint), true)));
        if ctx.task {
            out.extend(self.task_vars.iter().map(|(n, t)| (format!("task.{n}"), Some(*t), false)));
            out.push(("task.slice_left".into(), Some(Ty::Dur), false));
            if !self.classes.is_empty() {
                out.push(("task.class".into(), None, false));
            }
        }
        out
    }

    /// A block: its `let`s end with it.
    fn stmts(&mut self, body: &[S], indent: usize, ctx: &Ctx) {
        let mut ctx = ctx.clone();
        self.stmts_in(body, indent, &mut ctx);
    }

    /// Statements whose `let`s stay in `ctx` (for the value of a formula).
    fn stmts_in(&mut self, body: &[S], indent: usize, ctx: &mut Ctx) {
        for s in body {
            self.stmt(s, indent, ctx);
        }
    }

    fn stmt(&mut self, s: &S, indent: usize, ctx: &mut Ctx) {
        match s {
            S::Let { ty, value } => {
                let ty = VALUE_TYPES[*ty as usize % 5];
                let value = self.expr(value, ty, ctx);
                let name = format!("l{}", self.next_local);
                self.next_local += 1;
                self.line(indent, &format!("let {name} = {}", value.text));
                ctx.locals.push((name, ty));
            }
            S::Assign { place, op, value } => {
                let places = self.places(ctx);
                if places.is_empty() {
                    let v = self.expr(value, Ty::Bool, ctx);
                    self.line(indent, &format!("trace \"nothing to assign\", {}", v.text));
                    return;
                }
                let (target, ty, add_only) = places[*place as usize % places.len()].clone();
                let (op, text) = match ty {
                    None => ("=", self.class_expr(value, ctx).text),
                    Some(ty) => {
                        let op = if add_only {
                            "+="
                        } else if ty.numeric() {
                            ["=", "+=", "-="][*op as usize % 3]
                        } else {
                            "="
                        };
                        // A time moves by a duration.
                        let value_ty = if ty == Ty::Time && op != "=" { Ty::Dur } else { ty };
                        (op, self.expr(value, value_ty, ctx).text)
                    }
                };
                self.line(indent, &format!("{target} {op} {text}"));
            }
            S::If { cond, then, otherwise } => {
                let c = self.expr(cond, Ty::Bool, ctx);
                self.line(indent, &format!("if {} {{", c.text));
                self.stmts(then, indent + 1, ctx);
                self.else_part(otherwise, indent, ctx);
            }
            S::Every { period, body } => {
                if !ctx.can_every {
                    // Not allowed here: the body alone, in a block.
                    self.line(indent, "if true {");
                    self.stmts(body, indent + 1, ctx);
                    self.line(indent, "}");
                    return;
                }
                let positive_params: Vec<&ParamInfo> =
                    self.params.iter().filter(|p| p.ty == Ty::Dur && p.min.is_some_and(|m| m > 0)).collect();
                let period = match positive_params.as_slice() {
                    [] => PERIODS[*period as usize % PERIODS.len()].to_string(),
                    ps if *period % 3 == 0 => ps[*period as usize / 3 % ps.len()].name.clone(),
                    _ => PERIODS[*period as usize % PERIODS.len()].to_string(),
                };
                self.line(indent, &format!("every {period} {{"));
                let inner = Ctx { elapsed: true, can_every: false, ..ctx.clone() };
                self.stmts(body, indent + 1, &inner);
                self.line(indent, "}");
            }
            S::Trace { message, values } => {
                let mut text = format!("trace \"message {message}\"");
                for (ty, v) in values.iter().take(3) {
                    let v = self.expr(v, VALUE_TYPES[*ty as usize % 5], ctx);
                    write!(text, ", {}", v.text).expect("writing to a string");
                }
                self.line(indent, &text);
            }
        }
    }

    /// The rest of an `if`: `} else if … {`, `} else {` or `}`.
    fn else_part(&mut self, otherwise: &[S], indent: usize, ctx: &Ctx) {
        match otherwise {
            [] => self.line(indent, "}"),
            [S::If { cond, then, otherwise }] => {
                let c = self.expr(cond, Ty::Bool, ctx);
                self.line(indent, &format!("}} else if {} {{", c.text));
                self.stmts(then, indent + 1, ctx);
                self.else_part(otherwise, indent, ctx);
            }
            body => {
                self.line(indent, "} else {");
                self.stmts(body, indent + 1, ctx);
                self.line(indent, "}");
            }
        }
    }

    // ------------------------------------------------------------ items

    fn param(&mut self, i: usize, p: &Param) {
        let ty = PARAM_TYPES[p.ty as usize % PARAM_TYPES.len()];
        let name = format!("p{i}");
        let (below, above) = (i128::from(p.below % 1000), i128::from(p.above % 1000));
        // The default's text and value, and how a bound is written: durations
        // in the default's unit, so that the bounds are exact.
        let (default, value, unit, scale) = match ty {
            Ty::Dur => duration_literal(p.default),
            Ty::Int => {
                let v = i128::from(p.default);
                (if v < 0 { format!("-{}", -v) } else { v.to_string() }, v, "", 1)
            }
            Ty::Uint => {
                let v = i128::from(p.default.unsigned_abs() % (1 << 40));
                (v.to_string(), v, "", 1)
            }
            _ => {
                let text = if p.default % 2 == 0 { "true" } else { "false" };
                self.params.push(ParamInfo { name: name.clone(), ty, min: None, max: None });
                self.line(0, &format!("param {name}: bool = {text} \"a switch\""));
                return;
            }
        };
        let bound = |v: i128| if v < 0 { format!("-{}{unit}", -v / scale) } else { format!("{}{unit}", v / scale) };
        let (mut lo, hi) = (value - below * scale, value + above * scale);
        if ty == Ty::Uint {
            lo = lo.max(0);
        }
        // A bound is one literal with an optional `-`: it must fit 63 bits.
        let fits = |v: i128| v.abs() <= i128::from(i64::MAX);
        let (min, max, range) = match p.bounds % 4 {
            1 if fits(lo) && fits(hi) => (Some(lo), Some(hi), format!(" in {}..{}", bound(lo), bound(hi))),
            2 if fits(lo) => (Some(lo), None, format!(" in {}..", bound(lo))),
            3 if fits(hi) => (None, Some(hi), format!(" in ..{}", bound(hi))),
            _ => (None, None, String::new()),
        };
        self.params.push(ParamInfo { name: name.clone(), ty, min, max });
        self.line(0, &format!("param {name}: {} = {default} \"a parameter\"{range}", ty.keyword()));
    }

    fn formula(&mut self, head: &str, f: &Formula, ctx: &Ctx, positive: bool) {
        let value = |this: &Self, ctx: &Ctx| {
            let v = this.expr(&f.value, Ty::Dur, ctx);
            // A slice that is constant and not positive is an error.
            if positive && v.constant {
                format!("max({}, 1us)", v.text)
            } else {
                v.text
            }
        };
        if f.block {
            // Line breaks mean nothing: a value starting with `(` or `-` would
            // continue the last statement (`x = k0` then `(…)` is a call of
            // `k0`), so it starts with `0ns +` instead.
            let value = |this: &Self, ctx: &Ctx| {
                let v = value(this, ctx);
                if v.starts_with(['(', '-']) {
                    format!("0ns + {v}")
                } else {
                    v
                }
            };
            self.line(0, &format!("{head} {{"));
            // The value may use the block's `let`s.
            let mut ctx = ctx.clone();
            self.stmts_in(&f.stmts, 1, &mut ctx);
            let v = value(self, &ctx);
            self.line(1, &v);
            self.line(0, "}");
        } else {
            let v = value(self, ctx);
            self.line(0, &format!("{head} = {v}"));
        }
    }

    fn starvation_limit(&self, pick: u8, e: &E) -> String {
        let below_timeout: Vec<&ParamInfo> =
            self.params.iter().filter(|p| p.ty == Ty::Dur && p.max.is_some_and(|m| m < self.timeout_ns)).collect();
        match pick % 3 {
            0 => format!("{}ms", 1 + pick as u32 % 500),
            1 if !below_timeout.is_empty() => below_timeout[pick as usize / 3 % below_timeout.len()].name.clone(),
            _ => format!("min({}, 100ms)", self.expr(e, Ty::Dur, &Ctx::constant()).text),
        }
    }

    fn render(mut self) -> String {
        let spec = self.spec;
        match spec.timeout {
            Some(t) => self.line(
                0,
                &format!("scheduler rnd \"a random policy\" timeout {}", TIMEOUTS[t as usize % TIMEOUTS.len()].0),
            ),
            None => self.line(0, "scheduler rnd \"a random policy\""),
        }
        for (i, p) in spec.params.iter().enumerate() {
            self.param(i, p);
        }
        for (name, per_cpu, vtime) in self.queues.clone() {
            self.line(
                0,
                &format!(
                    "queue {name} {} {}",
                    if per_cpu { "per_cpu" } else { "shared" },
                    if vtime { "vtime" } else { "fifo" }
                ),
            );
        }
        for k in self.classes.clone() {
            self.line(0, &format!("class {k} \"a class\""));
        }
        let constant = Ctx::constant();
        for (i, (_, init)) in spec.globals.iter().enumerate() {
            let (name, ty) = self.globals[i].clone();
            let v = self.expr(init, ty, &constant);
            self.line(0, &format!("global {name}: {} = {}", ty.keyword(), v.text));
        }
        for (i, g) in spec.gauges.iter().enumerate() {
            match g {
                Gauge::Variable { ty, init } => {
                    let ty = VALUE_TYPES[*ty as usize % 5];
                    let v = self.expr(init, ty, &constant);
                    self.line(0, &format!("gauge ga{i}: {} = {} \"a gauge\"", ty.keyword(), v.text));
                }
                Gauge::Slice => self.line(0, &format!("gauge gs{i} = slice \"the slice\"")),
            }
        }
        for (i, c) in spec.counters.iter().enumerate() {
            match c {
                None => self.line(0, &format!("counter c{i} \"a counter\"")),
                Some(q) => {
                    let q = &self.queues[*q as usize % self.queues.len()].0;
                    self.line(0, &format!("counter ci{i} = queue.{q}.inserted \"inserts\""));
                }
            }
        }
        for (i, (_, init)) in spec.task_vars.iter().enumerate() {
            let (name, ty) = self.task_vars[i].clone();
            let v = self.expr(init, ty, &Ctx::task());
            self.line(0, &format!("task {name}: {} = {}", ty.keyword(), v.text));
        }

        for (event, body) in ["join", "wakeup", "enqueue", "running", "stopping"].iter().zip(&spec.events) {
            let Some(body) = body else { continue };
            let ctx = Ctx {
                task: true,
                wakeup: *event == "wakeup",
                runnable: *event == "stopping",
                can_every: true,
                ..Ctx::default()
            };
            self.line(0, &format!("on {event} {{"));
            self.stmts(body, 1, &ctx);
            self.line(0, "}");
        }

        let nq = self.queues.len();
        let mut routed: Vec<usize> = Vec::new();
        if let Some(select) = &spec.select {
            self.line(0, "select_cpu {");
            match &select.preferences {
                None => self.line(1, "default"),
                Some(prefs) => {
                    let ctx = Ctx { task: true, wakeup: true, ..Ctx::default() };
                    for (kind, when) in prefs {
                        let kind = ["pinned", "prev_core", "idle_core", "prev", "any"][*kind as usize % 5];
                        match when {
                            Some(w) => {
                                let w = self.expr(w, Ty::Bool, &ctx);
                                self.line(1, &format!("{kind} when {}", w.text));
                            }
                            None => self.line(1, kind),
                        }
                    }
                }
            }
            let q = select.found as usize % nq;
            routed.push(q);
            self.line(1, &format!("found -> {}{}", self.queues[q].0, if select.kick { " kick" } else { "" }));
            self.line(0, "}");
        }

        self.line(0, "enqueue {");
        for (cond, q, kick) in &spec.routes {
            let c = self.expr(cond, Ty::Bool, &Ctx::task());
            let q = *q as usize % nq;
            routed.push(q);
            self.line(1, &format!("{} -> {}{}", c.text, self.queues[q].0, if *kick { " kick" } else { "" }));
        }
        let q = spec.catch_all.0 as usize % nq;
        routed.push(q);
        self.line(1, &format!("else -> {}{}", self.queues[q].0, if spec.catch_all.1 { " kick" } else { "" }));
        self.line(0, "}");

        // Every routed queue is served, and maybe a few more, in an order
        // given by the sort keys.
        let mut served: Vec<usize> = routed.clone();
        served.extend(spec.extra_served.iter().map(|q| *q as usize % nq));
        served.sort_unstable();
        served.dedup();
        served.sort_by_key(|q| (spec.order_keys.get(*q).copied().unwrap_or(0), *q));
        self.line(0, "dispatch {");
        for q in served {
            let (name, per_cpu, _) = self.queues[q].clone();
            match spec.starve.get(q).cloned().flatten() {
                Some((pick, e)) if !per_cpu => {
                    let limit = self.starvation_limit(pick, &e);
                    self.line(1, &format!("{name} starve after {limit}"));
                }
                _ => self.line(1, &name),
            }
        }
        self.line(0, "}");

        if let Some(f) = &spec.slice {
            self.formula("slice", f, &Ctx::task(), true);
        }
        // A vtime queue needs a charge; without one it is allowed (with a warning).
        let charge = spec.charge.clone().or_else(|| {
            self.has_vtime.then(|| Formula {
                block: false,
                stmts: Vec::new(),
                value: E::Leaf { kind: 0, pick: 0, lit: 5 },
            })
        });
        if let Some(f) = &charge {
            self.formula("vtime charge", f, &Ctx { task: true, runnable: true, ..Ctx::default() }, false);
        }
        if let Some(f) = &spec.lag {
            self.formula("vtime lag", f, &Ctx::task(), false);
        }
        if let (Some(k), false) = (spec.preempt, self.classes.is_empty()) {
            let k = self.classes[k as usize % self.classes.len()].clone();
            self.line(0, &format!("preempt {k}"));
        }
        self.out
    }
}

fn render(spec: &Spec) -> String {
    Render::new(spec).render()
}

// ---------------------------------------------------------------- the property

/// Checks one policy; `Err` has the checker's reports.
fn check(src: &str) -> Result<schedc_compiler::Checked, String> {
    check_source("random.policy", src).map_err(|reports| {
        let text: Vec<String> = reports.iter().map(|r| r.render_plain(100)).collect();
        format!("the checker rejects a generated policy:\n{}", text.join("\n"))
    })
}

/// Checks one policy and builds its C; `Err` says what went wrong.
fn check_and_build(src: &str, clang: Option<&Clang>) -> Result<(), String> {
    let checked = check(src)?;
    let c = std::panic::catch_unwind(|| generate_c(&checked)).map_err(|_| "generate_c panicked".to_string())?;
    // Generated code never increments or decrements: a `--`/`++` outside
    // comments and strings is two signs run together (C's decrement).
    for line in c.lines() {
        let code = line.split("/*").next().unwrap_or(line);
        let code: String = code.split('"').step_by(2).collect();
        if code.contains("--") || code.contains("++") {
            return Err(format!("`--` or `++` in the generated C: {}", line.trim()));
        }
    }
    let Some(clang) = clang else { return Ok(()) };
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    build_object(clang, &checked.model.name, &c, &dir.path().join("rnd.bpf.o")).map_err(|e| {
        let text = e.to_string();
        let errors: Vec<&str> =
            text.lines().filter(|l| l.contains("error:")).map(|l| &l[l.rfind("rnd.bpf.c:").unwrap_or(0)..]).collect();
        format!("clang rejects the generated C:\n    {}", errors.join("\n    "))
    })
}

#[test]
fn random_valid_policies_check_and_build() {
    let clang = match Clang::find() {
        Ok(clang) => Some(clang),
        Err(e) => {
            skip_or_fail(format!("building the generated C (the policies are still checked): {e}"));
            None
        }
    };
    let cases: u32 =
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(if in_ci() { 300 } else { 40 });
    let seed: u64 = std::env::var("SCHEDC_RANDOM_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(1, 8) as u32;
    let per_thread = cases.div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let clang = clang.as_ref();
                s.spawn(move || {
                    // Strategies are not Send: each thread builds its own.
                    let strategy = spec();
                    let config = Config {
                        cases: per_thread,
                        failure_persistence: None,
                        max_shrink_iters: 1000,
                        max_shrink_time: 120_000,
                        ..Config::default()
                    };
                    let mut seed_bytes = [0u8; 32];
                    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
                    seed_bytes[8..12].copy_from_slice(&t.to_le_bytes());
                    let mut runner =
                        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
                    match runner
                        .run(&strategy, |spec| check_and_build(&render(&spec), clang).map_err(TestCaseError::fail))
                    {
                        Ok(()) => None,
                        Err(TestError::Fail(why, spec)) => {
                            Some(format!("{why}\n\nthe smallest failing policy found:\n\n{}", render(&spec)))
                        }
                        Err(TestError::Abort(why)) => Some(format!("aborted: {why}")),
                    }
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().expect("runner thread")).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {threads} runners found a failing policy (rerun with SCHEDC_RANDOM_SEED={seed}):\n\n{}",
        failures.len(),
        failures.join("\n\n----------------------------------------------------------------\n\n")
    );
}

/// The generator alone, on fixed seeds and without clang: rendering is a
/// function of the spec, and what it renders passes the checker.
#[test]
fn generated_policies_are_valid() {
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = spec();
    for _ in 0..200 {
        let spec = strategy.new_tree(&mut runner).expect("a spec").current();
        let (a, b) = (render(&spec), render(&spec));
        assert_eq!(a, b, "rendering is a function of the spec");
        if let Err(why) = check(&a) {
            panic!("{why}\n\npolicy:\n{a}");
        }
    }
}

// ---------------------------------------------------------------- what the C computes

/// A value of the reference evaluator: 64 bits and a type, or a bare
/// number literal whose type is still open.
#[derive(Clone, Copy, Debug, PartialEq)]
enum V {
    Typed(u64, Ty),
    Number(i128),
}

impl V {
    fn settle(self, ty: Ty) -> (u64, Ty) {
        match self {
            V::Typed(bits, t) => (bits, t),
            V::Number(n) => (n as u64, ty),
        }
    }

    fn ty(self) -> Option<Ty> {
        match self {
            V::Typed(_, t) => Some(t),
            V::Number(_) => None,
        }
    }

    fn bool(self) -> bool {
        matches!(self, V::Typed(b, Ty::Bool) if b != 0)
    }
}

fn signed(ty: Ty) -> bool {
    matches!(ty, Ty::Int | Ty::Dur)
}

/// `a < b` in the C type of `ty`.
fn less(a: u64, b: u64, ty: Ty) -> bool {
    if signed(ty) {
        (a as i64) < (b as i64)
    } else {
        a < b
    }
}

/// The language's division: 0 for a zero divisor, truncating, wrapping.
fn divide(op: &str, a: u64, b: u64, signed: bool) -> u64 {
    match (op, signed) {
        (_, _) if b == 0 => 0,
        ("/", true) => (a as i64).wrapping_div(b as i64) as u64,
        ("%", true) => (a as i64).wrapping_rem(b as i64) as u64,
        ("/", false) => a / b,
        _ => a % b,
    }
}

/// The type of `a OP b` (the unit table of the language).
fn arith_result(op: &str, a: Ty, b: Ty) -> Ty {
    use Ty::*;
    match (a, op, b) {
        (Dur, "/", Dur) => Int,
        (Time, "-", Time) => Dur,
        (Time, _, _) | (_, _, Time) => Time,
        (Dur, _, _) | (_, _, Dur) => Dur,
        _ => a,
    }
}

/// Evaluates the fully parenthesised expressions `Render` writes.
struct Eval<'a> {
    tokens: Vec<String>,
    at: usize,
    names: &'a [(String, V)],
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if i + 1 < chars.len() && ["==", "!=", "<=", ">="].contains(&format!("{c}{}", chars[i + 1]).as_str()) {
            out.push(format!("{c}{}", chars[i + 1]));
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

impl Eval<'_> {
    fn next(&mut self) -> String {
        self.at += 1;
        self.tokens[self.at - 1].clone()
    }

    fn peek(&self) -> &str {
        self.tokens.get(self.at).map_or("", String::as_str)
    }

    fn expect(&mut self, t: &str) {
        let got = self.next();
        assert_eq!(got, t, "evaluator: expected `{t}` at token {}", self.at);
    }

    /// An operand: a unary minus, an atom.
    fn operand(&mut self) -> V {
        if self.peek() == "-" {
            self.next();
            return match self.operand() {
                V::Number(n) => V::Number(-n),
                V::Typed(bits, ty) => V::Typed(bits.wrapping_neg(), ty),
            };
        }
        let t = self.next();
        match t.as_str() {
            "(" => {
                let v = self.inner();
                self.expect(")");
                v
            }
            "true" => V::Typed(1, Ty::Bool),
            "false" => V::Typed(0, Ty::Bool),
            "int" | "uint" | "min" | "max" | "clamp" | "ewma" | "log2" => self.call(&t),
            _ if t.starts_with(|c: char| c.is_ascii_digit()) => {
                let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
                let n: i128 = digits.parse().expect("a number");
                match &t[digits.len()..] {
                    "" => V::Number(n),
                    unit => {
                        let scale = match unit {
                            "ns" => 1,
                            "us" => 1_000,
                            "ms" => 1_000_000,
                            "s" => 1_000_000_000,
                            other => panic!("evaluator: unit {other}"),
                        };
                        V::Typed((n * scale) as u64, Ty::Dur)
                    }
                }
            }
            name => {
                self.names.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("evaluator: unknown name {name}")).1
            }
        }
    }

    /// Inside parentheses: a conditional, `not`, or `a OP b`, or one operand.
    fn inner(&mut self) -> V {
        match self.peek() {
            "if" => {
                self.next();
                let c = self.operand();
                self.expect("then");
                let a = self.operand();
                self.expect("else");
                let b = self.operand();
                let ty = a.ty().or(b.ty());
                let chosen = if c.bool() { a } else { b };
                match ty {
                    Some(ty) => {
                        let (bits, t) = chosen.settle(ty);
                        V::Typed(bits, t)
                    }
                    None => chosen,
                }
            }
            "not" => {
                self.next();
                V::Typed(u64::from(!self.operand().bool()), Ty::Bool)
            }
            _ => {
                let a = self.operand();
                if self.peek() == ")" {
                    return a;
                }
                let op = self.next();
                let b = self.operand();
                self.binary(&op, a, b)
            }
        }
    }

    fn binary(&mut self, op: &str, a: V, b: V) -> V {
        match op {
            "and" => return V::Typed(u64::from(a.bool() && b.bool()), Ty::Bool),
            "or" => return V::Typed(u64::from(a.bool() || b.bool()), Ty::Bool),
            _ => {}
        }
        if let (V::Number(x), V::Number(y)) = (a, b) {
            // Both literal: arithmetic on numbers (comparisons never are).
            return V::Number(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x.checked_div(y).unwrap_or(0),
                "%" => x.checked_rem(y).unwrap_or(0),
                _ => panic!("evaluator: {op} of two numbers"),
            });
        }
        let (x, ta) = a.settle(b.ty().unwrap_or(Ty::Int));
        let (y, tb) = b.settle(ta);
        let comparison = |r: bool| V::Typed(u64::from(r), Ty::Bool);
        match op {
            "==" => comparison(x == y),
            "!=" => comparison(x != y),
            "<" => comparison(less(x, y, ta)),
            "<=" => comparison(!less(y, x, ta)),
            ">" => comparison(less(y, x, ta)),
            ">=" => comparison(!less(x, y, ta)),
            _ => {
                let ty = arith_result(op, ta, tb);
                let bits = match op {
                    "+" => x.wrapping_add(y),
                    "-" => x.wrapping_sub(y),
                    "*" => x.wrapping_mul(y),
                    _ => divide(op, x, y, signed(ty)),
                };
                V::Typed(bits, ty)
            }
        }
    }

    fn call(&mut self, f: &str) -> V {
        self.expect("(");
        let mut args = vec![self.inner_arg()];
        while self.peek() == "," {
            self.next();
            args.push(self.inner_arg());
        }
        self.expect(")");
        if f == "int" || f == "uint" {
            let to = if f == "int" { Ty::Int } else { Ty::Uint };
            let (bits, _) = args[0].settle(to);
            return V::Typed(bits, to);
        }
        if f == "log2" {
            // A uint: floor(log2 n), 0 for n <= 1 (negative ints too); a
            // literal is a uint unless it is negative.
            let n = match args[0] {
                V::Number(n) => n.max(0) as u64,
                V::Typed(bits, Ty::Int) => (bits as i64).max(0) as u64,
                V::Typed(bits, _) => bits,
            };
            return V::Typed(u64::from(n.max(1).ilog2()), Ty::Uint);
        }
        let Some(ty) = args.iter().find_map(|a| a.ty()) else {
            // Only numbers: computed as numbers.
            let n: Vec<i128> = args.iter().map(|a| if let V::Number(n) = a { *n } else { unreachable!() }).collect();
            return V::Number(match f {
                "min" => n[0].min(n[1]),
                "max" => n[0].max(n[1]),
                "clamp" => n[0].max(n[1]).min(n[2]),
                _ => n[0] - n[0] / 4 + n[1] / 4,
            });
        };
        let v: Vec<u64> = args.iter().map(|a| a.settle(ty).0).collect();
        let min = |a: u64, b: u64| if less(a, b, ty) { a } else { b };
        let max = |a: u64, b: u64| if less(b, a, ty) { a } else { b };
        let bits = match f {
            "min" => min(v[0], v[1]),
            "max" => max(v[0], v[1]),
            "clamp" => min(max(v[0], v[1]), v[2]),
            _ => v[0].wrapping_sub(divide("/", v[0], 4, signed(ty))).wrapping_add(divide("/", v[1], 4, signed(ty))),
        };
        V::Typed(bits, ty)
    }

    /// A call argument: a whole expression (an operand, as `Render` writes them).
    fn inner_arg(&mut self) -> V {
        self.operand()
    }
}

fn evaluate(text: &str, names: &[(String, V)]) -> V {
    let mut e = Eval { tokens: tokenize(text), at: 0, names };
    let v = e.operand();
    assert_eq!(e.at, e.tokens.len(), "evaluator: trailing tokens in {text}");
    v
}

#[test]
fn the_evaluator_follows_the_language() {
    let names = vec![
        ("a".to_string(), V::Typed(-7i64 as u64, Ty::Int)),
        ("u".to_string(), V::Typed(7, Ty::Uint)),
        ("z".to_string(), V::Typed(0, Ty::Int)),
    ];
    let int = |v: i64| V::Typed(v as u64, Ty::Int);
    assert_eq!(evaluate("(a / int(2))", &names), int(-3));
    assert_eq!(evaluate("(a % 2)", &names), int(-1));
    assert_eq!(evaluate("(a / z)", &names), int(0));
    assert_eq!(evaluate("(u - 8)", &names), V::Typed(u64::MAX, Ty::Uint));
    assert_eq!(evaluate("((u - 8) > u)", &names), V::Typed(1, Ty::Bool));
    assert_eq!(evaluate("(-(int(-9223372036854775808) / -1))", &names), int(i64::MIN));
    assert_eq!(evaluate("ewma(a, int(9))", &names), int(-7 + 1 + 2));
    assert_eq!(evaluate("(3ms / 2ms)", &names), int(1));
    assert_eq!(evaluate("(if (a < 0) then 5ms else 1s)", &names), V::Typed(5_000_000, Ty::Dur));
    assert_eq!(evaluate("clamp(u, uint(9), 3)", &names), V::Typed(3, Ty::Uint));
}

/// The arithmetic helpers of the header, for a host program.
fn host_helpers() -> String {
    let header = schedc_compiler::build::SCHEDC_BPF_H;
    let start = header.find("static __always_inline u64 schedc_udiv").expect("the division helpers");
    let ewma = header.find("static __always_inline u64 schedc_ewma_u64").expect("ewma");
    let end = ewma + header[ewma..].find("\n}\n").expect("the end of ewma") + 3;
    // Limits such as S64_MIN, which generated constants may use.
    let limits: String = header
        .lines()
        .filter(|l| l.starts_with("#define S64_") || l.starts_with("#define U64_"))
        .map(|l| format!("{l}\n"))
        .collect();
    format!(
        "#include <stdio.h>\n#include <stdbool.h>\ntypedef unsigned long long u64;\ntypedef long long s64;\n\
         typedef unsigned int u32;\ntypedef int s32;\ntypedef unsigned char u8;\n\
         #define __always_inline inline __attribute__((always_inline))\n{limits}{}\n",
        &header[start..end]
    )
}

fn value_type(ty: schedc_compiler::model::ValueType) -> Ty {
    use schedc_compiler::model::ValueType;
    match ty {
        ValueType::Int => Ty::Int,
        ValueType::Uint => Ty::Uint,
        ValueType::Duration => Ty::Dur,
        ValueType::Time => Ty::Time,
        ValueType::Bool => Ty::Bool,
    }
}

/// Checks `src`, whose gauges `wanted` (name, expression text) are
/// computed from parameters (and the time global `tm0`) in ops.init; runs
/// the generated declarations and initial values as a host program and
/// compares each gauge with what the language defines.
fn compare_with_c(src: &str, wanted: &[(String, String)], clang: &Clang) -> Result<(), String> {
    let checked = check(src).map_err(|e| format!("{e}\n\npolicy:\n{src}"))?;
    let c = generate_c(&checked);
    let mut names: Vec<(String, V)> = vec![("tm0".to_string(), V::Typed(0, Ty::Time))];
    names.extend(checked.model.params.iter().map(|p| (p.name.clone(), V::Typed(p.default as u64, value_type(p.ty)))));
    // The generated declarations, the initial values computed in ops.init,
    // then each result's 64 bits.
    let decl =
        |l: &&str| ["const volatile ", "static u64 tm0", "s64 r", "u64 r", "bool r"].iter().any(|p| l.starts_with(p));
    let mut program = host_helpers();
    for l in c.lines().filter(decl) {
        program.push_str(l);
        program.push('\n');
    }
    program.push_str("int main(void)\n{\n");
    for (name, _) in wanted {
        // A gauge without such a line is a constant set by its declaration.
        if let Some(line) = c.lines().find(|l| l.starts_with(&format!("\t{name} = "))) {
            program.push_str(&format!("{line}\n"));
        }
    }
    for (name, _) in wanted {
        program.push_str(&format!("\tprintf(\"%llu\\n\", (u64){name});\n"));
    }
    program.push_str("\treturn 0;\n}\n");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (src_path, exe) = (dir.path().join("exprs.c"), dir.path().join("exprs"));
    std::fs::write(&src_path, &program).map_err(|e| e.to_string())?;
    let out = std::process::Command::new(&clang.path)
        .args(["-fwrapv", "-O1", "-w", "-o"])
        .arg(&exe)
        .arg(&src_path)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("the host build failed:\n{}\n\nprogram:\n{program}", String::from_utf8_lossy(&out.stderr)));
    }
    let run = std::process::Command::new(&exe).output().map_err(|e| e.to_string())?;
    let got: Vec<u64> = String::from_utf8_lossy(&run.stdout).lines().map(|l| l.parse().expect("a number")).collect();
    for (i, (name, text)) in wanted.iter().enumerate() {
        let (bits, _) = evaluate(text, &names).settle(Ty::Int);
        if got.get(i) != Some(&bits) {
            let line = c.lines().find(|l| l.contains(&format!("{name} = "))).unwrap_or("").trim().to_string();
            return Err(format!(
                "{name} = {text}\n  the language says {bits} ({}), the C computes {:?}\n  C: {line}\n\npolicy:\n{src}",
                bits as i64,
                got.get(i).map(|g| (*g, *g as i64))
            ));
        }
    }
    Ok(())
}

/// A clang, or `None` when the test is skipped (a failure under CI).
fn host_clang() -> Option<Clang> {
    Clang::find().map_err(skip_or_fail).ok()
}

/// Random expressions over parameters: the value the generated C computes
/// (built for the host, with the header's own arithmetic helpers) must be
/// the value the language defines (`Eval`): 64-bit wrapping, typed
/// signedness, division by zero yielding 0, `ewma`, `clamp`, conversions.
/// 100 cases under CI, 20 otherwise.
#[test]
fn random_expressions_compute_what_the_language_defines() {
    let Some(clang) = host_clang() else { return };
    let cases: u32 =
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(if in_ci() { 100 } else { 20 });
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 500, ..Config::default() };
    let strategy =
        (prop::collection::vec((any::<u8>(), literal()), 1..=4), prop::collection::vec((any::<u8>(), expr()), 1..=12));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(params, exprs)| {
        let spec = Spec {
            timeout: None,
            params: params
                .iter()
                .map(|(ty, default)| Param { ty: *ty, default: *default, bounds: 0, below: 0, above: 0 })
                .collect(),
            queues: vec![(false, false)],
            classes: 0,
            globals: Vec::new(),
            gauges: Vec::new(),
            counters: Vec::new(),
            task_vars: Vec::new(),
            events: Vec::new(),
            select: None,
            routes: Vec::new(),
            catch_all: (0, false),
            extra_served: Vec::new(),
            order_keys: Vec::new(),
            starve: Vec::new(),
            slice: None,
            charge: None,
            lag: None,
            preempt: None,
        };
        // Parameters and a time global only: no facts, nothing else to read.
        let mut r = Render::new(&spec);
        r.facts = false;
        r.globals = vec![("tm0".to_string(), Ty::Time)];
        r.line(0, "scheduler exprs \"random expressions\"");
        for (i, p) in spec.params.iter().enumerate() {
            r.param(i, p);
        }
        r.line(0, "queue q0 shared fifo\nglobal tm0: time = 0");
        let mut wanted = Vec::new();
        for (i, (ty, e)) in exprs.iter().enumerate() {
            let ty = VALUE_TYPES[*ty as usize % 5];
            let text = r.expr(e, ty, &Ctx::constant()).text;
            r.line(0, &format!("gauge r{i}: {} = {text} \"r\"", ty.keyword()));
            wanted.push((format!("r{i}"), text));
        }
        r.line(0, "on running {\n    tm0 = tm0\n}\nenqueue {\n    else -> q0\n}\ndispatch {\n    q0\n}");
        compare_with_c(&r.out, &wanted, &clang).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The header's `schedc_log2_u64` and `schedc_log2_s64`, built for the
/// host, are floor(log2) at every bit position and 0 for 0, 1 and negatives.
#[test]
fn log2_helpers_find_the_highest_set_bit() {
    let Some(clang) = host_clang() else { return };
    let mut values: Vec<u64> = vec![0, 1, u64::MAX];
    for k in 1..64 {
        values.extend([(1u64 << k) - 1, 1u64 << k, (1u64 << k) + 1]);
    }
    let signed: Vec<i64> = vec![i64::MIN, -1, 0, 1, 2, 3, i64::MAX];
    let mut program = host_helpers();
    program.push_str("int main(void)\n{\n");
    for v in &values {
        program.push_str(&format!("\tprintf(\"%llu\\n\", schedc_log2_u64({v}ULL));\n"));
    }
    for v in &signed {
        program.push_str(&format!("\tprintf(\"%llu\\n\", schedc_log2_s64((s64){}ULL));\n", *v as u64));
    }
    program.push_str("\treturn 0;\n}\n");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (src_path, exe) = (dir.path().join("log2.c"), dir.path().join("log2"));
    std::fs::write(&src_path, &program).expect("writable");
    let out = std::process::Command::new(&clang.path)
        .args(["-O1", "-o"])
        .arg(&exe)
        .arg(&src_path)
        .output()
        .expect("clang runs");
    assert!(out.status.success(), "the host build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let run = std::process::Command::new(&exe).output().expect("the program runs");
    let got: Vec<u64> = String::from_utf8_lossy(&run.stdout).lines().map(|l| l.parse().expect("a number")).collect();
    let wanted: Vec<u64> = values
        .iter()
        .map(|v| u64::from(v.max(&1).ilog2()))
        .chain(signed.iter().map(|v| u64::from((*v).max(1).ilog2())))
        .collect();
    assert_eq!(got, wanted, "inputs: {values:?} then {signed:?}");
}

/// Cases the random expressions found, kept so that they are always run.
#[test]
fn known_expressions_compute_what_the_language_defines() {
    let Some(clang) = host_clang() else { return };
    let cases: &[(&str, &str)] = &[
        // INT64_MIN written as `-9223372036854775808LL` is an unsigned
        // long long in C, so the comparison was made unsigned.
        ("bool", "(p0 < -9223372036854775808)"),
        ("bool", "(-9223372036854775808 >= p0)"),
        ("int", "(if (p0 > -9223372036854775808) then int(1) else int(2))"),
        ("int", "min(p0, -9223372036854775808)"),
        ("int", "((p0 - 1) / -1)"),
        ("int", "(p0 % -9223372036854775808)"),
        // log2: 0 for 0, 1 and negative ints; the highest set bit otherwise.
        ("uint", "log2(p0)"),
        ("uint", "log2((p0 + 1))"),
        ("uint", "log2((p0 - 5))"),
        ("uint", "log2((p0 + 1000))"),
        ("uint", "log2((uint(p0) + 65535))"),
        ("uint", "log2((uint(p0) + 65536))"),
        ("uint", "log2((uint(p0) + 4294967296))"),
        ("uint", "log2(uint((p0 - 1)))"),
        ("uint", "log2(uint((p0 + 9223372036854775807)))"),
    ];
    let mut src =
        "scheduler known \"known expressions\"\nparam p0: int = 0 \"p\"\nqueue q0 shared fifo\nglobal tm0: time = 0\n"
            .to_string();
    let mut wanted = Vec::new();
    for (i, (ty, text)) in cases.iter().enumerate() {
        src.push_str(&format!("gauge r{i}: {ty} = {text} \"r\"\n"));
        wanted.push((format!("r{i}"), text.to_string()));
    }
    src.push_str("on running {\n    tm0 = tm0\n}\nenqueue {\n    else -> q0\n}\ndispatch {\n    q0\n}\n");
    // Each case alone, so that every wrong one is reported.
    let failures: Vec<String> = wanted
        .iter()
        .filter_map(|w| compare_with_c(&src, std::slice::from_ref(w), &clang).err())
        .map(|e| e.split("\n\npolicy:").next().unwrap_or("").to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} expressions compute something else in C:\n{}\n\npolicy:\n{src}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
