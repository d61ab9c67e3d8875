//! What a failed parse expected, in words: the tokens and rules pest wanted
//! named for the message, and the shape of each item for the help line.

use super::Rule;

/// The expected tokens worth naming: punctuation and keywords that end or
/// continue a construct. Tokens that only start an expression, a name or a
/// number are left to the rules, which name them better.
pub(super) fn describe_tokens(tokens: &[String]) -> Vec<&'static str> {
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
            "per_cpu" | "per_llc" | "per_node" | "shared" => "`per_cpu`, `per_llc`, `per_node` or `shared`",
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

pub(super) fn describe_expected(mut names: Vec<&'static str>) -> String {
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
    if names.contains(&"`when CONDITION`") {
        names.retain(|n| *n != "`when`");
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

pub(super) fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "a name",
        Rule::string | Rule::string_body => "a quoted string",
        Rule::expr => "an expression",
        Rule::type_name => "a type (duration, time, int, uint or bool)",
        Rule::placement => "`per_cpu`, `per_llc`, `per_node` or `shared`",
        Rule::order => "`fifo` or `vtime`",
        Rule::event_name | Rule::timer_event => {
            "an event (join, wakeup, enqueue, runnable, running, stopping, quiescent, tick, cpu_release or timer PERIOD)"
        }
        Rule::pref_kind | Rule::preference => {
            "a CPU preference (pinned, prev_core, idle_core, prev, prev_llc, waker or any)"
        }
        Rule::select_default => "`default`",
        Rule::found => "`found -> QUEUE`",
        Rule::vtime_part => "`charge`, `lag` or `deadline`",
        Rule::formula => "`= EXPRESSION` or a `{ ... }` block",
        Rule::timeout => "`timeout`",
        Rule::ops_flags => "`with FLAG, ...`",
        Rule::bounds => "`in LOW..HIGH`",
        Rule::bound => "a number or a duration",
        Rule::route => "a route `CONDITION -> QUEUE`",
        Rule::catch_all => "`else`",
        Rule::serve => "a queue name, `earliest(...)`, `round_robin(...)` or `keep_running`",
        Rule::earliest => "`earliest(QUEUE, QUEUE, ...)`",
        Rule::round_robin => "`round_robin(QUEUE: WEIGHT, ...)`",
        Rule::weighted => "`QUEUE: WEIGHT`",
        Rule::keep_running => "`keep_running`",
        Rule::starve => "`starve after`",
        Rule::kick => "`kick`",
        Rule::cpu_range => "a CPU number or range such as `0-3`",
        Rule::within => "`in SET`",
        Rule::when => "`when CONDITION`",
        Rule::block => "`{`",
        Rule::assign_op => "`=`, `+=` or `-=`",
        // Where one operator may come, any may: naming them all is noise.
        Rule::cmp_op | Rule::sum_op | Rule::prod_op | Rule::or_op | Rule::and_op | Rule::is_op | Rule::in_op => "an operator",
        Rule::duration | Rule::unit => "a duration such as 5ms",
        Rule::number | Rule::digits => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::scheduler_decl
        | Rule::param_decl
        | Rule::queue_decl
        | Rule::class_decl
        | Rule::task_decl
        | Rule::global_decl
        | Rule::cpu_decl
        | Rule::cpuset_decl
        | Rule::counter_decl
        | Rule::gauge_decl
        | Rule::event_decl
        | Rule::select_decl
        | Rule::enqueue_decl
        | Rule::dispatch_decl
        | Rule::slice_decl
        | Rule::vtime_decl
        | Rule::preempt_decl => ITEM_LIST,
        Rule::let_stmt
        | Rule::if_stmt
        | Rule::every_stmt
        | Rule::trace_stmt
        | Rule::reenqueue_stmt
        | Rule::assign_stmt => "a statement",
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
    "an item (scheduler, param, queue, class, task, global, cpuset, counter, gauge, on, select_cpu, enqueue, dispatch, slice, vtime or preempt)";

/// What a well-formed item of this kind looks like, for the help line.
pub(crate) fn item_shape(keyword: Option<&str>) -> String {
    let Some(keyword) = keyword else {
        return "a policy is a list of items, each starting with a keyword such as `param`, `queue` or `on` at the start of a line".to_string();
    };
    let shape = match keyword {
        "scheduler" => "scheduler NAME \"description\" timeout 5s",
        "param" => "param NAME: TYPE = DEFAULT \"what it does\" in LOW..HIGH   (the range is optional)",
        "queue" => "queue NAME per_cpu|per_llc|per_node|shared fifo|vtime",
        "class" => "class NAME \"what its tasks are\"",
        "task" => "task NAME: TYPE = INITIAL   (one per task)",
        "global" => "global NAME: TYPE = INITIAL",
        "cpu" => "cpu NAME: TYPE = INITIAL   (one per CPU; INITIAL a constant)",
        "cpuset" => "cpuset NAME = 0-3, 6   (CPU numbers and ranges)",
        "counter" => "counter NAME \"meaning\"   or   counter NAME = queue.Q.inserted \"meaning\"",
        "gauge" => "gauge NAME: TYPE = INITIAL \"meaning\"   or   gauge NAME = slice \"meaning\"",
        "on" => "on join|wakeup|enqueue|runnable|running|stopping|quiescent|tick|cpu_release { STATEMENTS }   or   on timer PERIOD { STATEMENTS }",
        "const" => "const NAME = VALUE   (literals and constants above; a string literal too)",
        "fn" => "fn NAME(ARG: TYPE, ...) = EXPRESSION",
        "select_cpu" => "select_cpu { pinned  prev_core when system.smt  any  found -> QUEUE kick }",
        "enqueue" => "enqueue { CONDITION -> QUEUE  ...  else -> QUEUE }",
        "dispatch" => {
            "dispatch { QUEUE  QUEUE starve after 5ms  earliest(Q1, Q2)  round_robin(Q1: 1, Q2: 2)  keep_running }"
        }
        "slice" => "slice = EXPRESSION   or   slice { STATEMENTS  EXPRESSION }",
        "vtime" => "vtime charge = EXPRESSION   or   vtime lag = EXPRESSION   or   vtime deadline = EXPRESSION",
        "preempt" => "preempt CLASS",
        _ => return item_shape(None),
    };
    let article = if matches!(keyword.as_bytes()[0], b'a' | b'e' | b'i' | b'o' | b'u') { "an" } else { "a" };
    format!("{article} `{keyword}` item looks like: {shape}")
}
