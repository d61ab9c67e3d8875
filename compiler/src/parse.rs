//! Text to syntax tree, with pest.
//!
//! Items are parsed one at a time so that one syntax error does not hide the
//! next: after an error the parser skips to the next line that starts, in the
//! first column, with an item keyword.

use pest::error::{ErrorVariant, InputLocation};
use std::cell::Cell;

use pest::iterators::Pair;
use pest::Parser;

use crate::ast::*;
use crate::diag::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct PolicyParser;

const ITEM_KEYWORDS: &[&str] = &[
    "scheduler",
    "param",
    "queue",
    "class",
    "task",
    "global",
    "counter",
    "gauge",
    "on",
    "select_cpu",
    "enqueue",
    "dispatch",
    "slice",
    "vtime",
    "preempt",
];

/// Parses a whole policy. Returns every item that parsed and a diagnostic for
/// every item that did not.
pub fn parse(src: &str) -> (Policy, Vec<Diagnostic>) {
    // Track the tokens each failed parse wanted, for better messages.
    pest::set_error_detail(true);
    let mut policy = Policy::default();
    let mut errors = Vec::new();
    let mut offset = skip_trivia(src, 0);
    while offset < src.len() {
        match PolicyParser::parse(Rule::item_at, &src[offset..]) {
            Ok(mut pairs) => {
                let item_at = pairs.next().expect("item_at always yields itself");
                let item = item_at.into_inner().next().expect("item_at holds one item");
                let end = offset + item.as_span().end();
                let builder = Builder::new(offset);
                let item = builder.item(item);
                match builder.too_deep.get() {
                    None => policy.items.push(item),
                    Some(span) => errors.push(
                        Diagnostic::error("too-deep", span, "this is nested too deeply")
                            .label(format!("more than {MAX_DEPTH} levels of operators, brackets and blocks"))
                            .help("split it into smaller parts with `let`"),
                    ),
                }
                offset = skip_trivia(src, end);
            }
            Err(err) => {
                let diagnostic = syntax_error(src, offset, &err);
                offset = skip_trivia(src, resync(src, diagnostic.span.start.max(offset), offset));
                errors.push(diagnostic);
            }
        }
    }
    (policy, errors)
}

/// Skips white space and comments from `at`.
fn skip_trivia(src: &str, mut at: usize) -> usize {
    let bytes = src.as_bytes();
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            _ => break,
        }
    }
    at
}

/// The start of the first line after `at` that begins with an item keyword.
///
/// An error found at the start of such a line (`class c` missing its string,
/// with `counter` on the next line) resumes on that very line, unless it is
/// the line of the item that failed.
fn resync(src: &str, at: usize, item_start: usize) -> usize {
    let starts_item = |line: &str| {
        let word: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        ITEM_KEYWORDS.contains(&word.as_str())
    };
    if at > item_start && src.as_bytes()[at - 1] == b'\n' && starts_item(&src[at..]) {
        return at;
    }
    let mut line_start = src[at..].find('\n').map_or(src.len(), |n| at + n + 1);
    while line_start < src.len() {
        let line = &src[line_start..];
        if starts_item(line) {
            return line_start;
        }
        line_start = line.find('\n').map_or(src.len(), |n| line_start + n + 1);
    }
    src.len()
}

/// Builds the diagnostic for a syntax error in the item at `item_start`.
///
/// pest reports two positions: the furthest place a *rule* failed, and (with
/// error detail on) the furthest place a *token* failed, with the tokens it
/// wanted there. The token position is usually the better one (`param x
/// duration` fails at `duration`, wanting `:`, while the furthest rule is
/// the whole item), unless it points inside a word.
fn syntax_error(src: &str, item_start: usize, err: &pest::error::Error<Rule>) -> Diagnostic {
    let rule_at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        // pest gives up with "call limit reached" or "stack limit reached"
        // on input nested deeper than its stack allows.
        ErrorVariant::CustomError { message } => {
            let at = (item_start + rule_at).min(src.len());
            let end = src[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            return Diagnostic::error("too-deep", Span::new(at, end), "this is nested too deeply to parse")
                .label(format!("the parser gave up here: {message}"))
                .help("split it into smaller parts with `let`");
        }
    };
    let (token_at, tokens) = match err.parse_attempts() {
        Some(attempts) => {
            // Character ranges print as `a..z`; they only start names and
            // numbers, which the rules describe.
            let tokens: Vec<String> = attempts.expected_tokens().iter().map(ToString::to_string).collect();
            (attempts.max_position, tokens)
        }
        None => (rule_at, Vec::new()),
    };
    let token_names = describe_tokens(&tokens);
    let (at, expected) = if token_at > rule_at && !token_names.is_empty() {
        (item_start + token_at, token_names)
    } else {
        let mut names: Vec<&'static str> = if token_at == rule_at { token_names } else { Vec::new() };
        names.extend(positives.iter().filter_map(|r| rule_name(*r)));
        (item_start + rule_at, names)
    };
    let expected = describe_expected(expected);
    let keyword: String = src[item_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let kind = if ITEM_KEYWORDS.contains(&keyword.as_str()) { Some(keyword.as_str()) } else { None };

    // A line that starts in the first column after a complete item is meant
    // as the next item (or is a statement that strayed out of its block).
    let line_start = at < src.len() && at > item_start && src.as_bytes()[at - 1] == b'\n';
    if line_start && expected.contains("the next item") {
        let found = found_token(src, at);
        let help = match names_suggest(found) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "a policy is a list of items, each starting with a keyword such as `param`, `queue` or `on`; statements go inside `on EVENT { ... }`".to_string(),
        };
        return Diagnostic::error(
            "syntax",
            Span::new(at, at + found.len()),
            format!("expected an item, found `{}`", shorten(found)),
        )
        .label("not an item keyword")
        .help(help);
    }

    // When the mistake is on a later line than the last token of the item,
    // or is the end of the file, the missing piece belongs after that token:
    // point there rather than at the next line (or at nothing).
    let before = without_trailing_trivia(&src[item_start..at.min(src.len())]);
    let last_end = item_start + before.len();
    let later_line = at >= src.len() || src[last_end..at].contains('\n');
    if later_line && !before.is_empty() && expected != "the next item" {
        let last_start = item_start + last_token_start(before);
        let found_text = if at >= src.len() {
            "the end of the file".to_string()
        } else {
            format!("`{}`", shorten(found_token(src, at)))
        };
        let mut d = Diagnostic::error(
            "syntax",
            Span::new(last_start, last_end),
            format!("expected {expected}, found {found_text}"),
        )
        .label(format!("expected {expected} after this"))
        .help(item_shape(kind));
        if let Some(kind) = kind {
            if last_start > item_start {
                d = d.related(
                    Span::new(item_start, item_start + kind.len()),
                    format!("this `{kind}` item is not finished"),
                );
            }
        }
        return d;
    }

    let found = found_token(src, at);
    let span = Span::new(at, at + found.len());
    if found.starts_with('"') && !found[1..].contains('"') {
        return Diagnostic::error("syntax", span, "this string is not closed")
            .label("the string starts here and runs to the end of the line")
            .help("end it with `\"` on the same line; a string cannot span lines");
    }
    let found_text = format!("`{}`", shorten(found));
    if kind.is_none() && at == item_start {
        let help = match names_suggest(found) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("a policy is a list of items, each starting with one of: {}", ITEM_KEYWORDS.join(", ")),
        };
        return Diagnostic::error("syntax", span, format!("expected an item, found {found_text}"))
            .label("not an item keyword")
            .help(help);
    }
    if expected == "the next item" {
        let kind = kind.unwrap_or("previous");
        return Diagnostic::error("syntax", span, format!("expected the next item, found {found_text}"))
            .label(format!("the `{kind}` item is complete before this"))
            .help(item_shape(Some(kind)));
    }
    let help = match found {
        "&&" => "write `and` instead of `&&`".to_string(),
        "||" => "write `or` instead of `||`".to_string(),
        "!" => "write `not` instead of `!`".to_string(),
        ";" => "a statement ends at the end of its line; remove the `;`".to_string(),
        "++" => "write `+= 1` instead of `++`".to_string(),
        "--" => "write `-= 1` instead of `--`".to_string(),
        ":=" => "assign with `=`".to_string(),
        "=>" => "a route is written `CONDITION -> QUEUE`".to_string(),
        _ if expected == "a name" && is_keyword(found) => {
            format!("`{found}` is a word of the language and cannot be used as a name")
        }
        _ => item_shape(kind),
    };
    Diagnostic::error("syntax", span, format!("expected {expected}, found {found_text}"))
        .label(format!("expected {expected} here"))
        .help(help)
}

/// The token at `at`, for messages: a word, a string up to its closing
/// quote (or the end of the line), a run of operator characters, or one
/// character.
fn found_token(src: &str, at: usize) -> &str {
    let rest = &src[at..];
    let first = rest.chars().next().expect("not at the end");
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
    } else if first == '"' {
        let line = rest.find('\n').unwrap_or(rest.len());
        rest[1..line].find('"').map_or(line, |i| i + 2)
    } else if "&|!=<>+-*/%.:;,".contains(first) {
        rest.find(|c: char| !"&|!=<>+-*/%.:;,".contains(c)).unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    // A string to the end of the line may end in a carriage return.
    rest[..len].trim_end()
}

/// Where the last token of `text` starts: a word or path, a string, a run
/// of operator characters, or one character.
fn last_token_start(text: &str) -> usize {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let operator = |c: char| "&|!=<>+-*/%:;,".contains(c);
    let start_of_run = |same: &dyn Fn(char) -> bool| {
        text.char_indices().rev().find(|(_, c)| !same(*c)).map_or(0, |(i, c)| i + c.len_utf8())
    };
    match text.chars().next_back() {
        None => 0,
        Some('"') => text[..text.len() - 1].rfind('"').unwrap_or(text.len() - 1),
        Some(c) if word(c) => start_of_run(&word),
        Some(c) if operator(c) => start_of_run(&operator),
        Some(c) => text.len() - c.len_utf8(),
    }
}

/// At most 30 characters of a token, for the message line.
fn shorten(token: &str) -> String {
    match token.char_indices().nth(30) {
        Some((i, _)) => format!("{}...", &token[..i]),
        None => token.to_string(),
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "is", "if", "then", "else", "let", "every", "trace", "true", "false", "on", "in"]
        .contains(&word)
}

fn names_suggest(word: &str) -> Option<&'static str> {
    crate::check::suggest(word, ITEM_KEYWORDS.iter().copied())
}

/// The expected tokens worth naming: punctuation and keywords that end or
/// continue a construct. Tokens that only start an expression, a name or a
/// number are left to the rules, which name them better.
fn describe_tokens(tokens: &[String]) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut item = false;
    let mut operator = false;
    for t in tokens {
        let name = match t.as_str() {
            "}" => "`}`",
            "{" => "`{`",
            ")" => "`)`",
            "," => "`,`",
            "->" => "`->`",
            ":" => "`:`",
            "=" => "`=`",
            ".." => "`..`",
            "then" => "`then`",
            "else" => "`else`",
            "found" => "`found -> QUEUE`",
            "kick" => "`kick`",
            "after" => "`after`",
            "when" => "`when`",
            "fifo" | "vtime" if tokens.iter().any(|t| t == "fifo") && tokens.iter().any(|t| t == "vtime") => {
                "`fifo` or `vtime`"
            }
            "per_cpu" | "shared" => "`per_cpu` or `shared`",
            "charge" | "lag" => "`charge` or `lag`",
            "+" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or" | "is" => {
                operator = true;
                continue;
            }
            // `enqueue` is an event too: only the full list, which has
            // `scheduler` in it, means "the next item".
            "scheduler" => {
                item = true;
                continue;
            }
            _ => continue,
        };
        names.push(name);
    }
    if operator {
        names.push("an operator");
    }
    if item {
        names.push("the next item");
    }
    names
}

fn describe_expected(mut names: Vec<&'static str>) -> String {
    // A statement may start with a name, and an operator is spelt out below.
    if names.contains(&"a statement") {
        names.retain(|n| *n != "a name");
    }
    if names.contains(&"`=`, `+=` or `-=`") {
        names.retain(|n| *n != "`=`");
    }
    if names.contains(&"`{`") && names.contains(&"`= EXPRESSION` or a `{ ... }` block") {
        names.retain(|n| *n != "`{`" && *n != "`=`");
    }
    let mut seen = Vec::new();
    for n in names {
        if !seen.contains(&n) {
            seen.push(n);
        }
    }
    // Punctuation first, then the rest in a fixed order.
    seen.sort_by_key(|n| (!n.starts_with('`'), *n == "an operator", *n == "the next item"));
    match seen.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::string | Rule::string_body => "a quoted string",
        Rule::expr => "an expression",
        Rule::type_name => "a type (duration, time, int, uint or bool)",
        Rule::placement => "`per_cpu` or `shared`",
        Rule::order => "`fifo` or `vtime`",
        Rule::event_name => "an event (join, wakeup, enqueue, running or stopping)",
        Rule::pref_kind | Rule::preference => "a CPU preference (pinned, prev_core, idle_core, prev or any)",
        Rule::select_default => "`default`",
        Rule::found => "`found -> QUEUE`",
        Rule::vtime_part => "`charge` or `lag`",
        Rule::formula => "`= EXPRESSION` or a `{ ... }` block",
        Rule::timeout => "`timeout`",
        Rule::bounds => "`in LOW..HIGH`",
        Rule::bound => "a number or a duration",
        Rule::route => "a route `CONDITION -> QUEUE`",
        Rule::catch_all => "`else`",
        Rule::serve => "a queue name",
        Rule::starve => "`starve after`",
        Rule::kick => "`kick`",
        Rule::block => "`{`",
        Rule::assign_op => "`=`, `+=` or `-=`",
        // Where one operator may come, any may: naming them all is noise.
        Rule::cmp_op | Rule::sum_op | Rule::prod_op | Rule::or_op | Rule::and_op | Rule::is_op => "an operator",
        Rule::duration | Rule::unit => "a duration such as 5ms",
        Rule::number | Rule::digits => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::scheduler_decl
        | Rule::param_decl
        | Rule::queue_decl
        | Rule::class_decl
        | Rule::task_decl
        | Rule::global_decl
        | Rule::counter_decl
        | Rule::gauge_decl
        | Rule::event_decl
        | Rule::select_decl
        | Rule::enqueue_decl
        | Rule::dispatch_decl
        | Rule::slice_decl
        | Rule::vtime_decl
        | Rule::preempt_decl => ITEM_LIST,
        Rule::let_stmt | Rule::if_stmt | Rule::every_stmt | Rule::trace_stmt | Rule::assign_stmt => "a statement",
        Rule::item_at | Rule::item => ITEM_LIST,
        Rule::EOI | Rule::next_item => "the next item",
        Rule::unary | Rule::not_expr | Rule::cmp_expr | Rule::sum_expr | Rule::prod_expr | Rule::cond_expr => {
            "an expression"
        }
        Rule::call | Rule::path | Rule::not_op | Rule::neg_op => "an expression",
        _ => return None,
    })
}

const ITEM_LIST: &str =
    "an item (scheduler, param, queue, class, task, global, counter, gauge, on, select_cpu, enqueue, dispatch, slice, vtime or preempt)";

/// What a well-formed item of this kind looks like, for the help line.
fn item_shape(keyword: Option<&str>) -> String {
    let Some(keyword) = keyword else {
        return "a policy is a list of items, each starting with a keyword such as `param`, `queue` or `on` at the start of a line".to_string();
    };
    let shape = match keyword {
        "scheduler" => "scheduler NAME \"description\" timeout 5s",
        "param" => "param NAME: TYPE = DEFAULT \"what it does\" in LOW..HIGH   (the range is optional)",
        "queue" => "queue NAME per_cpu|shared fifo|vtime",
        "class" => "class NAME \"what its tasks are\"",
        "task" => "task NAME: TYPE = INITIAL   (one per task)",
        "global" => "global NAME: TYPE = INITIAL",
        "counter" => "counter NAME \"meaning\"   or   counter NAME = queue.Q.inserted \"meaning\"",
        "gauge" => "gauge NAME: TYPE = INITIAL \"meaning\"   or   gauge NAME = slice \"meaning\"",
        "on" => "on join|wakeup|enqueue|running|stopping { STATEMENTS }",
        "select_cpu" => "select_cpu { pinned  prev_core when system.smt  any  found -> QUEUE kick }",
        "enqueue" => "enqueue { CONDITION -> QUEUE  ...  else -> QUEUE }",
        "dispatch" => "dispatch { QUEUE  QUEUE starve after 5ms ... }",
        "slice" => "slice = EXPRESSION   or   slice { STATEMENTS  EXPRESSION }",
        "vtime" => "vtime charge = EXPRESSION   or   vtime lag = EXPRESSION",
        "preempt" => "preempt CLASS",
        _ => return item_shape(None),
    };
    let article = if matches!(keyword.as_bytes()[0], b'a' | b'e' | b'i' | b'o' | b'u') { "an" } else { "a" };
    format!("{article} `{keyword}` item looks like: {shape}")
}

/// The deepest nesting of expressions and statements the parser accepts.
/// The parser, the checker and the code generator recurse on the syntax
/// tree, so a machine-written policy nested thousands deep would overflow
/// the stack; real policies stay far below this.
const MAX_DEPTH: usize = 64;

/// Turns pest pairs into syntax-tree nodes. Pair positions are relative to
/// the item being parsed; `base` makes them absolute.
struct Builder {
    base: usize,
    /// An upper bound of the depth of the tree being built: one per
    /// recursive call, plus the length of operator chains (which are built
    /// in a loop, but nest in the tree).
    depth: Cell<usize>,
    /// Where the item first went deeper than [`MAX_DEPTH`]; the item is then
    /// dropped with an error.
    too_deep: Cell<Option<Span>>,
}

/// A stand-in for an expression too deeply nested to build.
fn placeholder(span: Span) -> Expr {
    Expr { kind: ExprKind::Int(0), span }
}

/// Descends through rules that wrap a single child (`expr`, and each level
/// of precedence when it holds no operator) without recursing.
fn collapse(mut pair: Pair<Rule>) -> Pair<Rule> {
    loop {
        match pair.as_rule() {
            Rule::expr
            | Rule::or_expr
            | Rule::and_expr
            | Rule::not_expr
            | Rule::cmp_expr
            | Rule::sum_expr
            | Rule::prod_expr
            | Rule::unary => {
                let mut inner = pair.clone().into_inner();
                match (inner.next(), inner.next()) {
                    (Some(only), None) => pair = only,
                    _ => return pair,
                }
            }
            _ => return pair,
        }
    }
}

impl Builder {
    fn new(base: usize) -> Self {
        Builder { base, depth: Cell::new(0), too_deep: Cell::new(None) }
    }

    /// Goes `levels` deeper; false (and the item marked too deep) if that
    /// passes the limit.
    fn enter(&self, span: Span, levels: usize) -> bool {
        let depth = self.depth.get() + levels;
        if depth > MAX_DEPTH {
            if self.too_deep.get().is_none() {
                self.too_deep.set(Some(span));
            }
            return false;
        }
        self.depth.set(depth);
        true
    }

    fn leave(&self, levels: usize) {
        self.depth.set(self.depth.get() - levels);
    }

    /// The span of a pair without the white space and comments pest may
    /// have consumed at its end (a rule ending in `x*` or `x?` keeps the
    /// trivia it skipped before trying `x` one more time).
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let start = self.base + s.start();
        Span::new(start, start + without_trailing_trivia(s.as_str()).len())
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        debug_assert_eq!(pair.as_rule(), Rule::ident);
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn string(&self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map_or("", |b| b.as_str());
        StrLit { value: body.to_string(), span }
    }

    fn type_name(&self, pair: Pair<Rule>) -> TypeName {
        let ty = match pair.as_str() {
            "duration" => ValueType::Duration,
            "time" => ValueType::Time,
            "int" => ValueType::Int,
            "uint" => ValueType::Uint,
            _ => ValueType::Bool,
        };
        TypeName { ty, span: self.span(&pair) }
    }

    fn path(&self, pair: Pair<Rule>) -> Path {
        let span = self.span(&pair);
        Path { parts: pair.into_inner().map(|p| self.ident(p)).collect(), span }
    }

    fn item(&self, pair: Pair<Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("grammar guarantees this child");
        let kind = match rule {
            Rule::scheduler_decl => {
                let name = self.ident(next());
                let description = self.string(next());
                let timeout = inner.next().map(|t| self.expr(t.into_inner().next().expect("timeout value")));
                ItemKind::Scheduler { name, description, timeout }
            }
            Rule::param_decl => {
                let name = self.ident(next());
                let ty = self.type_name(next());
                let default = self.expr(next());
                let doc = self.string(next());
                let (mut min, mut max) = (None, None);
                if let Some(bounds) = inner.next() {
                    // `in LO..HI`: each side is optional; the ".." is a plain token.
                    let text = bounds.as_str();
                    let dots = bounds.as_span().start() + text.find("..").expect("bounds contain ..");
                    for b in bounds.into_inner() {
                        let bound = self.bound(b);
                        if bound.span.start < self.base + dots {
                            min = Some(bound);
                        } else {
                            max = Some(bound);
                        }
                    }
                }
                ItemKind::Param(Box::new(ParamDecl { name, ty, default, doc, min, max }))
            }
            Rule::queue_decl => {
                let name = self.ident(next());
                let placement = if next().as_str() == "per_cpu" { Placement::PerCpu } else { Placement::Shared };
                let order = if next().as_str() == "fifo" { Order::Fifo } else { Order::Vtime };
                ItemKind::Queue { name, placement, order }
            }
            Rule::class_decl => ItemKind::Class { name: self.ident(next()), doc: self.string(next()) },
            Rule::task_decl | Rule::global_decl => {
                let scope = if rule == Rule::task_decl { Scope::Task } else { Scope::Global };
                let name = self.ident(next());
                let ty = self.type_name(next());
                let init = self.expr(next());
                ItemKind::State { scope, name, ty, init }
            }
            Rule::counter_decl => {
                let name = self.ident(next());
                let second = next();
                let (bound, doc) = if second.as_rule() == Rule::path {
                    (Some(self.path(second)), self.string(next()))
                } else {
                    (None, self.string(second))
                };
                ItemKind::Counter { name, bound, doc }
            }
            Rule::gauge_decl => {
                let name = self.ident(next());
                let second = next();
                let source = if second.as_rule() == Rule::path {
                    GaugeSource::Bound(self.path(second))
                } else {
                    GaugeSource::Variable { ty: self.type_name(second), init: self.expr(next()) }
                };
                ItemKind::Gauge { name, source, doc: self.string(next()) }
            }
            Rule::event_decl => {
                let event_pair = next();
                let event_span = self.span(&event_pair);
                let event = match event_pair.as_str() {
                    "join" => Event::Join,
                    "wakeup" => Event::Wakeup,
                    "enqueue" => Event::Enqueue,
                    "running" => Event::Running,
                    _ => Event::Stopping,
                };
                ItemKind::On { event, event_span, body: self.block(next()) }
            }
            Rule::select_decl => ItemKind::SelectCpu(self.select(inner)),
            Rule::enqueue_decl => ItemKind::Enqueue { routes: inner.map(|r| self.route(r)).collect() },
            Rule::dispatch_decl => ItemKind::Dispatch { serves: inner.map(|s| self.serve(s)).collect() },
            Rule::slice_decl => ItemKind::Slice(self.formula(next())),
            Rule::vtime_decl => {
                let part = if next().as_str() == "charge" { VtimePart::Charge } else { VtimePart::Lag };
                ItemKind::Vtime { part, formula: self.formula(next()) }
            }
            Rule::preempt_decl => ItemKind::Preempt { class: self.ident(next()) },
            other => unreachable!("not an item rule: {other:?}"),
        };
        Item { kind, span }
    }

    fn bound(&self, pair: Pair<Rule>) -> Bound {
        let span = self.span(&pair);
        let negative = pair.as_str().starts_with('-');
        let value = self.expr(pair.into_inner().next().expect("bound value"));
        Bound { negative, value, span }
    }

    fn select(&self, pairs: pest::iterators::Pairs<Rule>) -> SelectCpu {
        let mut select = SelectCpu {
            preferences: Vec::new(),
            default_span: None,
            found_queue: Ident { name: String::new(), span: Span::default() },
            kick: false,
            found_span: Span::default(),
        };
        for pair in pairs {
            match pair.as_rule() {
                Rule::select_default => select.default_span = Some(self.span(&pair)),
                Rule::preference => {
                    let span = self.span(&pair);
                    let mut inner = pair.into_inner();
                    let kind = match inner.next().expect("preference kind").as_str() {
                        "pinned" => PreferenceKind::Pinned,
                        "prev_core" => PreferenceKind::PrevCore,
                        "idle_core" => PreferenceKind::IdleCore,
                        "prev" => PreferenceKind::Prev,
                        _ => PreferenceKind::Any,
                    };
                    let when = inner.next().map(|w| self.expr(w.into_inner().next().expect("when condition")));
                    select.preferences.push(Preference { kind, when, span });
                }
                _ => {
                    select.found_span = self.span(&pair);
                    let mut inner = pair.into_inner();
                    select.found_queue = self.ident(inner.next().expect("found queue"));
                    select.kick = inner.next().is_some();
                }
            }
        }
        select
    }

    fn route(&self, pair: Pair<Rule>) -> Route {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let first = inner.next().expect("route condition");
        let condition = (first.as_rule() != Rule::catch_all).then(|| self.expr(first));
        let queue = self.ident(inner.next().expect("route queue"));
        Route { condition, queue, kick: inner.next().is_some(), span }
    }

    fn serve(&self, pair: Pair<Rule>) -> Serve {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let queue = self.ident(inner.next().expect("served queue"));
        let starve_after = inner.next().map(|s| self.expr(s.into_inner().next().expect("starvation limit")));
        Serve { queue, starve_after, span }
    }

    fn formula(&self, pair: Pair<Rule>) -> Formula {
        let mut stmts = Vec::new();
        let mut result = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::expr {
                result = Some(self.expr(child));
            } else {
                stmts.push(self.stmt(child));
            }
        }
        Formula { stmts, result: result.expect("a formula ends in an expression") }
    }

    fn block(&self, pair: Pair<Rule>) -> Vec<Stmt> {
        pair.into_inner().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&self, pair: Pair<Rule>) -> Stmt {
        let span = self.span(&pair);
        if !self.enter(span, 1) {
            return Stmt {
                kind: StmtKind::If { cond: placeholder(span), then: Vec::new(), otherwise: Vec::new() },
                span,
            };
        }
        let stmt = self.stmt_node(pair, span);
        self.leave(1);
        stmt
    }

    fn stmt_node(&self, pair: Pair<Rule>, span: Span) -> Stmt {
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let mut next = || inner.next().expect("grammar guarantees this child");
        let kind = match rule {
            Rule::let_stmt => StmtKind::Let { name: self.ident(next()), value: self.expr(next()) },
            Rule::assign_stmt => {
                let target = self.path(next());
                let op = match next().as_str() {
                    "+=" => AssignOp::Add,
                    "-=" => AssignOp::Sub,
                    _ => AssignOp::Set,
                };
                StmtKind::Assign { target, op, value: self.expr(next()) }
            }
            Rule::if_stmt => {
                let cond = self.expr(next());
                let then = self.block(next());
                let otherwise = match inner.next() {
                    None => Vec::new(),
                    Some(p) if p.as_rule() == Rule::block => self.block(p),
                    Some(p) => vec![self.stmt(p)],
                };
                StmtKind::If { cond, then, otherwise }
            }
            Rule::every_stmt => StmtKind::Every { period: self.expr(next()), body: self.block(next()) },
            Rule::trace_stmt => {
                let message = self.string(next());
                StmtKind::Trace { message, args: inner.map(|a| self.expr(a)).collect() }
            }
            other => unreachable!("not a statement rule: {other:?}"),
        };
        Stmt { kind, span }
    }

    fn expr(&self, pair: Pair<Rule>) -> Expr {
        let pair = collapse(pair);
        let span = self.span(&pair);
        if !self.enter(span, 1) {
            return placeholder(span);
        }
        let e = self.expr_node(pair, span);
        self.leave(1);
        e
    }

    fn expr_node(&self, pair: Pair<Rule>, span: Span) -> Expr {
        match pair.as_rule() {
            // Wrapper rules with a single child collapse into it.
            Rule::expr => self.expr(pair.into_inner().next().expect("expr child")),
            Rule::cond_expr => {
                let mut inner = pair.into_inner();
                let mut next = || Box::new(self.expr(inner.next().expect("cond part")));
                let (cond, then, otherwise) = (next(), next(), next());
                Expr { kind: ExprKind::Cond { cond, then, otherwise }, span }
            }
            Rule::or_expr | Rule::and_expr | Rule::sum_expr | Rule::prod_expr => self.left_assoc(pair),
            Rule::not_expr | Rule::unary => {
                let children: Vec<Pair<Rule>> = pair.into_inner().collect();
                let (ops, operand) = children.split_at(children.len() - 1);
                if !self.enter(span, ops.len()) {
                    return placeholder(span);
                }
                let mut e = self.expr(operand[0].clone());
                self.leave(ops.len());
                for op in ops.iter().rev() {
                    let s = Span::new(self.span(op).start, e.span.end);
                    let boxed = Box::new(e);
                    let kind = if op.as_rule() == Rule::not_op { ExprKind::Not(boxed) } else { ExprKind::Neg(boxed) };
                    e = Expr { kind, span: s };
                }
                e
            }
            Rule::cmp_expr => {
                let mut inner = pair.into_inner();
                let lhs = self.expr(inner.next().expect("comparison lhs"));
                match inner.next() {
                    None => lhs,
                    Some(op) if op.as_rule() == Rule::is_op => {
                        let class = self.ident(inner.next().expect("class after is"));
                        Expr { kind: ExprKind::Is { value: Box::new(lhs), class }, span }
                    }
                    Some(op) => {
                        let rhs = self.expr(inner.next().expect("comparison rhs"));
                        let op = binop(op.as_str());
                        Expr { kind: ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }
                    }
                }
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("callee"));
                Expr { kind: ExprKind::Call { func, args: inner.map(|a| self.expr(a)).collect() }, span }
            }
            Rule::path => Expr { kind: ExprKind::Path(self.path(pair)), span },
            Rule::number => {
                let digits = pair.into_inner().next().expect("digits").as_str();
                Expr { kind: ExprKind::Int(parse_digits(digits)), span }
            }
            Rule::duration => {
                // The grammar admits only digits and a unit, so the one way
                // this fails is a duration too long, which the checker reports.
                let ns = schedc_abi::units::parse(pair.as_str()).map_or(u128::MAX, u128::from);
                Expr { kind: ExprKind::Duration(ns), span }
            }
            Rule::boolean => Expr { kind: ExprKind::Bool(pair.as_str() == "true"), span },
            Rule::string => Expr { kind: ExprKind::Str(self.string(pair).value), span },
            other => unreachable!("not an expression rule: {other:?}"),
        }
    }

    fn left_assoc(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let operators = pair.clone().into_inner().count() / 2;
        if !self.enter(span, operators) {
            return placeholder(span);
        }
        let e = self.left_assoc_chain(pair);
        self.leave(operators);
        e
    }

    fn left_assoc_chain(&self, pair: Pair<Rule>) -> Expr {
        let mut inner = pair.into_inner();
        let mut lhs = self.expr(inner.next().expect("first operand"));
        while let Some(op) = inner.next() {
            let rhs = self.expr(inner.next().expect("operand after operator"));
            let span = Span::new(lhs.span.start, rhs.span.end);
            lhs = Expr {
                kind: ExprKind::Binary { op: binop(op.as_str()), lhs: Box::new(lhs), rhs: Box::new(rhs) },
                span,
            };
        }
        lhs
    }
}

/// `text` without the white space and comments at its end. A `#` starts a
/// comment unless it is inside a string; strings do not span lines, so the
/// quotes can be counted from the start of the last line.
fn without_trailing_trivia(mut text: &str) -> &str {
    loop {
        text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let mut in_string = false;
        let comment = text[line_start..].char_indices().find_map(|(i, c)| match c {
            '"' => {
                in_string = !in_string;
                None
            }
            '#' if !in_string => Some(line_start + i),
            _ => None,
        });
        match comment {
            Some(at) => text = &text[..at],
            None => return text,
        }
    }
}

fn binop(text: &str) -> BinOp {
    match text {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "and" => BinOp::And,
        _ => BinOp::Or,
    }
}

fn parse_digits(digits: &str) -> u128 {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |acc, d| acc.saturating_mul(10).saturating_add(u128::from(d - b'0')))
}
