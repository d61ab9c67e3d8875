//! Items and statements to lines: one declaration, rule or statement per
//! line, blocks indented by four spaces. Each line remembers which source
//! lines it came from, so that comments and blank lines can be put back.

use crate::ast::*;

use super::expr::ExprPrinter;
use super::source::Source;

/// A one-line `if` stays on one line up to this width.
const MAX_WIDTH: usize = 100;

/// Declarations whose consecutive lines are aligned as a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Param,
    Queue,
    Class,
    State,
    Statistic,
}

#[derive(Debug)]
pub(super) struct Line {
    pub depth: usize,
    /// Columns: all but the last are padded to the widest of their group.
    pub cells: Vec<String>,
    pub family: Option<Family>,
    /// The source lines (0-based) the line was made from.
    pub first: usize,
    pub last: usize,
    /// Whether the line ends in `{` or starts with `}`.
    pub opens: bool,
    pub closes: bool,
    pub trailing_comment: Option<String>,
}

pub(super) struct Layout<'a, 's> {
    source: &'a Source<'s>,
    exprs: ExprPrinter<'a, 's>,
    pub lines: Vec<Line>,
}

impl<'a, 's> Layout<'a, 's> {
    pub fn new(source: &'a Source<'s>, explicit_parens: bool) -> Self {
        Layout { source, exprs: ExprPrinter { source, explicit: explicit_parens }, lines: Vec::new() }
    }

    fn expr(&self, e: &Expr) -> String {
        self.exprs.expr(e)
    }

    /// A line made from the source bytes `from..to`.
    fn push(&mut self, depth: usize, cells: Vec<String>, family: Option<Family>, from: usize, to: usize) {
        let first = self.source.line(from);
        let last = self.source.line(to.saturating_sub(1).max(from));
        let line = Line { depth, cells, family, first, last, opens: false, closes: false, trailing_comment: None };
        self.lines.push(line);
    }

    fn text(&mut self, depth: usize, text: String, span: Span) {
        self.push(depth, vec![text], None, span.start, span.end);
    }

    /// `text {`, from the source byte `from` to the brace at `brace`.
    fn opener(&mut self, depth: usize, text: String, from: usize, brace: usize) {
        self.push(depth, vec![format!("{text} {{")], None, from, brace + 1);
        self.lines.last_mut().expect("just pushed").opens = true;
    }

    /// `}` at the source byte `at`, or `} else {` from `at` to `brace`.
    fn closer(&mut self, depth: usize, text: &str, at: usize, to: usize) {
        self.push(depth, vec![text.to_string()], None, at, to);
        let line = self.lines.last_mut().expect("just pushed");
        line.closes = true;
        line.opens = text.ends_with('{');
    }

    fn block(&mut self, depth: usize, head: String, item: &Item, body: impl FnOnce(&mut Self)) {
        let brace = self.source.find(item.span.start, b'{');
        self.opener(depth, head, item.span.start, brace);
        body(self);
        self.closer(depth, "}", item.span.end - 1, item.span.end);
    }

    pub fn item(&mut self, item: &Item) {
        let span = item.span;
        let declaration = |layout: &mut Self, family, cells| layout.push(0, cells, Some(family), span.start, span.end);
        match &item.kind {
            ItemKind::Scheduler { name, description, timeout, flags } => {
                let timeout = timeout.as_ref().map(|t| format!(" timeout {}", self.expr(t))).unwrap_or_default();
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", flags.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "))
                };
                self.text(0, format!("scheduler {} \"{}\"{timeout}{flags}", name.name, description.value), span);
            }
            ItemKind::Param(p) => {
                let head = format!("param {}: {} = {}", p.name.name, p.ty.ty.keyword(), self.expr(&p.default));
                let bound = |b: &Option<Bound>| {
                    b.as_ref().map(|b| format!("{}{}", if b.negative { "-" } else { "" }, self.expr(&b.value)))
                };
                let range = if p.min.is_some() || p.max.is_some() {
                    format!(" in {}..{}", bound(&p.min).unwrap_or_default(), bound(&p.max).unwrap_or_default())
                } else {
                    String::new()
                };
                declaration(self, Family::Param, vec![head, format!("\"{}\"{range}", p.doc.value)]);
            }
            ItemKind::Queue { name, placement, order } => {
                let placement = placement.keyword();
                let order = if *order == Order::Fifo { "fifo" } else { "vtime" };
                let cells = vec![format!("queue {}", name.name), placement.to_string(), order.to_string()];
                declaration(self, Family::Queue, cells);
            }
            ItemKind::Class { name, doc } => {
                declaration(self, Family::Class, vec![format!("class {}", name.name), format!("\"{}\"", doc.value)]);
            }
            ItemKind::State { scope, name, ty, init } => {
                let keyword = scope.keyword();
                let text = format!("{keyword} {}: {} = {}", name.name, ty.ty.keyword(), self.expr(init));
                declaration(self, Family::State, vec![text]);
            }
            ItemKind::Counter { name, bound, doc } => {
                let bound = bound.as_ref().map(|b| format!(" = {}", b.text())).unwrap_or_default();
                let cells = vec![format!("counter {}{bound}", name.name), format!("\"{}\"", doc.value)];
                declaration(self, Family::Statistic, cells);
            }
            ItemKind::Gauge { name, source, doc } => {
                let head = match source {
                    GaugeSource::Variable { ty, init } => {
                        format!("gauge {}: {} = {}", name.name, ty.ty.keyword(), self.expr(init))
                    }
                    GaugeSource::Bound(path) => format!("gauge {} = {}", name.name, path.text()),
                };
                declaration(self, Family::Statistic, vec![head, format!("\"{}\"", doc.value)]);
            }
            ItemKind::On { event, body, .. } => {
                self.block(0, format!("on {}", event.keyword()), item, |l| l.stmts(1, body));
            }
            ItemKind::Timer { period, body, .. } => {
                self.block(0, format!("on timer {}", self.expr(period)), item, |l| l.stmts(1, body));
            }
            ItemKind::SelectCpu(select) => self.block(0, "select_cpu".to_string(), item, |l| l.select(select)),
            ItemKind::Enqueue { routes } => self.block(0, "enqueue".to_string(), item, |l| {
                for route in routes {
                    let condition = route.condition.as_ref().map_or("else".to_string(), |c| l.expr(c));
                    let kick = match (route.kick, route.idle, &route.idle_within) {
                        (true, _, _) => " kick".to_string(),
                        (_, true, Some(set)) => format!(" idle in {}", set.name),
                        (_, true, None) => " idle".to_string(),
                        _ => String::new(),
                    };
                    l.text(1, format!("{condition} -> {}{kick}", route.queue.name), route.span);
                }
            }),
            ItemKind::Dispatch { serves } => self.block(0, "dispatch".to_string(), item, |l| l.dispatch(serves)),
            ItemKind::Slice(formula) => self.formula("slice".to_string(), item, formula),
            ItemKind::Vtime { part, formula } => {
                self.formula(format!("vtime {}", part.keyword()), item, formula);
            }
            ItemKind::Preempt { class, victim } => {
                let at = match victim {
                    PreemptVictim::TaskCpu => String::new(),
                    PreemptVictim::At(e) => format!(" at {}", self.expr(e)),
                    PreemptVictim::Lowest(_) => " at lowest".to_string(),
                };
                self.text(0, format!("preempt {}{at}", class.name), span);
            }
            ItemKind::CpuSet { name, ranges, doc, dynamic } => {
                let doc = match doc {
                    Some(d) => format!(" \"{}\"", d.value),
                    None if *dynamic => " dynamic".to_string(),
                    None => String::new(),
                };
                self.text(0, format!("cpuset {} = {}{doc}", name.name, CpuRange::list(ranges)), span);
            }
            ItemKind::Const { name, value } => {
                self.text(0, format!("const {} = {}", name.name, self.expr(value)), span);
            }
            ItemKind::Fn(f) => {
                let params: Vec<String> =
                    f.params.iter().map(|(arg, ty)| format!("{}: {}", arg.name, ty.ty.keyword())).collect();
                self.text(0, format!("fn {}({}) = {}", f.name.name, params.join(", "), self.expr(&f.body)), span);
            }
        }
    }

    fn select(&mut self, select: &SelectCpu) {
        for p in &select.preferences {
            let when = p.when.as_ref().map(|w| format!(" when {}", self.expr(w))).unwrap_or_default();
            let within = p.within.as_ref().map(|s| format!(" in {}", s.name)).unwrap_or_default();
            self.text(1, format!("{}{within}{when}", p.kind.keyword()), p.span);
        }
        // Alone, or last: the kernel's choice when no preference found a CPU.
        if let Some(span) = select.default_span {
            self.text(1, "default".to_string(), span);
        }
        let kick = if select.kick { " kick" } else { "" };
        let when = select.found_when.as_ref().map(|w| format!(" when {}", self.expr(w))).unwrap_or_default();
        self.text(1, format!("found{when} -> {}{kick}", select.found_queue.name), select.found_span);
    }

    /// Queue names are padded so that the starvation limits line up.
    fn dispatch(&mut self, serves: &[Serve]) {
        let width = serves.iter().filter(|s| s.starve_after.is_some()).map(|s| s.queue.name.len()).max();
        for serve in serves {
            let text = match (&serve.group, &serve.starve_after) {
                (ServeGroup::Earliest(queues), _) => {
                    let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
                    format!("earliest({})", names.join(", "))
                }
                (ServeGroup::RoundRobin(weights), _) => {
                    let entries: Vec<String> =
                        weights.iter().map(|(q, w)| format!("{}: {}", q.name, self.expr(w))).collect();
                    format!("round_robin({})", entries.join(", "))
                }
                (ServeGroup::KeepRunning, _) => "keep_running".to_string(),
                (ServeGroup::One, Some(limit)) => {
                    format!("{:<w$} starve after {}", serve.queue.name, self.expr(limit), w = width.unwrap_or(0))
                }
                (ServeGroup::One, None) => serve.queue.name.clone(),
            };
            let when = serve.when.as_ref().map(|w| format!(" when {}", self.expr(w))).unwrap_or_default();
            let text = format!("{text}{when}");
            self.text(1, text, serve.span);
        }
    }

    /// `HEAD = EXPR`, or a block when there are statements before the result.
    fn formula(&mut self, head: String, item: &Item, formula: &Formula) {
        if formula.stmts.is_empty() {
            self.text(0, format!("{head} = {}", self.expr(&formula.result)), item.span);
            return;
        }
        self.block(0, head, item, |l| {
            l.stmts(1, &formula.stmts);
            l.text(1, l.expr(&formula.result), formula.result.span);
        });
    }

    fn stmts(&mut self, depth: usize, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(depth, s);
        }
    }

    fn stmt(&mut self, depth: usize, s: &Stmt) {
        if let Some(text) = self.simple_stmt(s) {
            self.text(depth, text, s.span);
            return;
        }
        match &s.kind {
            StmtKind::Every { period, body } => {
                let brace = self.source.find(period.span.end, b'{');
                self.opener(depth, format!("every {}", self.expr(period)), s.span.start, brace);
                self.stmts(depth + 1, body);
                self.closer(depth, "}", s.span.end - 1, s.span.end);
            }
            StmtKind::If { .. } => self.if_chain(depth, s, None),
            _ => unreachable!("simple statements are handled above"),
        }
    }

    /// A statement that fits on one line by itself.
    fn simple_stmt(&self, s: &Stmt) -> Option<String> {
        Some(match &s.kind {
            StmtKind::Let { name, value } => format!("let {} = {}", name.name, self.expr(value)),
            StmtKind::Assign { target, on_cpu, op, value } => {
                let target = match on_cpu {
                    Some(cpu) => format!("cpu({}).{}", self.exprs.cpu_arg(cpu), target.text()),
                    None => target.text(),
                };
                format!("{target} {} {}", op.symbol(), self.expr(value))
            }
            StmtKind::Trace { message, args } => {
                let args: String = args.iter().map(|a| format!(", {}", self.expr(a))).collect();
                format!("trace \"{}\"{args}", message.value)
            }
            StmtKind::ReenqueueLocal => "reenqueue local".to_string(),
            StmtKind::If { .. } | StmtKind::Every { .. } => return None,
        })
    }

    /// An `if`, with its `else if` and `else` parts. `after_brace` is where
    /// the `}` of the previous part stands when this `if` follows an `else`.
    fn if_chain(&mut self, depth: usize, s: &Stmt, after_brace: Option<usize>) {
        let StmtKind::If { cond, then, otherwise } = &s.kind else { unreachable!("an if statement") };
        let brace = self.source.find(cond.span.end, b'{');
        let then_end = then.last().map_or(brace + 1, |t| t.span.end);
        let then_close = self.source.find(then_end, b'}');
        let head = format!("if {}", self.expr(cond));

        // `if C { S }` stays on one line when S is simple and nothing is in the way.
        if let (None, [only], true) = (after_brace, then.as_slice(), otherwise.is_empty()) {
            let has_comment = self.source.comments.iter().any(|c| s.span.start <= c.start && c.start < s.span.end);
            if let Some(body) = self.simple_stmt(only).filter(|_| !has_comment) {
                let text = format!("{head} {{ {body} }}");
                if depth * 4 + text.len() <= MAX_WIDTH {
                    self.text(depth, text, s.span);
                    return;
                }
            }
        }
        match after_brace {
            None => self.opener(depth, head, s.span.start, brace),
            Some(at) => self.closer(depth, &format!("}} else {head} {{"), at, brace + 1),
        }
        self.stmts(depth + 1, then);
        match otherwise.as_slice() {
            [] => self.closer(depth, "}", then_close, then_close + 1),
            [next @ Stmt { kind: StmtKind::If { .. }, .. }] => self.if_chain(depth, next, Some(then_close)),
            _ => {
                let else_brace = self.source.find(then_close + 1, b'{');
                self.closer(depth, "} else {", then_close, else_brace + 1);
                self.stmts(depth + 1, otherwise);
                self.closer(depth, "}", s.span.end - 1, s.span.end);
            }
        }
    }
}
