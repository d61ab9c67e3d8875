//! The statistics records schedc writes match the schema documented in
//! docs/stats.schema.json, and docs/stats.md describes the same version and
//! fields. The validator below implements the part of JSON Schema that file
//! uses, and is itself tested on records that must fail.

use std::path::Path;
use std::time::Duration;

use schedc_abi::stats::{self, Body, Exit, Record, Sample, Setting, Stop};
use schedc_abi::{StatKind, Value};
use serde_json::{json, Value as Json};

fn docs() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs"))
}

fn schema() -> Json {
    let text = std::fs::read_to_string(docs().join("stats.schema.json")).expect("docs/stats.schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Why `value` does not match `schema` (`root` resolves `$ref`s), if it does not.
fn violation(value: &Json, schema: &Json, root: &Json, at: &str) -> Option<String> {
    let fail = |why: String| Some(format!("{at}: {why}"));
    let Json::Object(rules) = schema else { return fail(format!("schema is not an object: {schema}")) };
    for (keyword, rule) in rules {
        let problem = match keyword.as_str() {
            "$schema" | "title" | "description" | "$defs" => None,
            "$ref" => {
                let name = rule.as_str()?.strip_prefix("#/$defs/").expect("local references only");
                violation(value, &root["$defs"][name], root, at)
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Json::String(t) => vec![t.as_str()],
                    Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
                    _ => panic!("bad type rule {rule}"),
                };
                let is = |t: &str| match t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    other => panic!("unknown type {other}"),
                };
                (!types.iter().any(|t| is(t))).then(|| format!("{value} is not of type {rule}"))
            }
            "const" => (value != rule).then(|| format!("{value} is not {rule}")),
            "enum" => (!rule.as_array()?.contains(value)).then(|| format!("{value} is not one of {rule}")),
            "minimum" => value
                .as_f64()
                .filter(|v| *v < rule.as_f64().expect("a numeric minimum"))
                .map(|v| format!("{v} is below {rule}")),
            "pattern" => value.as_str().and_then(|s| {
                let re = fancy_regex::Regex::new(rule.as_str()?).expect("a valid pattern");
                (!re.is_match(s).unwrap_or(false)).then(|| format!("{s:?} does not match {rule}"))
            }),
            "required" => value.as_object().and_then(|obj| {
                let missing: Vec<&str> =
                    rule.as_array()?.iter().filter_map(Json::as_str).filter(|k| !obj.contains_key(*k)).collect();
                (!missing.is_empty()).then(|| format!("missing {missing:?}"))
            }),
            "properties" => value.as_object().and_then(|obj| {
                obj.iter().find_map(|(k, v)| {
                    let sub = rule.get(k)?;
                    violation(v, sub, root, &format!("{at}.{k}"))
                })
            }),
            "additionalProperties" => value.as_object().and_then(|obj| {
                let known = rules.get("properties").and_then(Json::as_object);
                let extra: Vec<&String> = obj.keys().filter(|k| !known.is_some_and(|p| p.contains_key(*k))).collect();
                (rule == &Json::Bool(false) && !extra.is_empty()).then(|| format!("unexpected {extra:?}"))
            }),
            "items" => value.as_array().and_then(|items| {
                items.iter().enumerate().find_map(|(i, v)| violation(v, rule, root, &format!("{at}[{i}]")))
            }),
            "oneOf" => {
                let matches = rule.as_array()?.iter().filter(|s| violation(value, s, root, at).is_none()).count();
                (matches != 1).then(|| format!("matches {matches} of the oneOf alternatives, not exactly one"))
            }
            "anyOf" => {
                let any = rule.as_array()?.iter().any(|s| violation(value, s, root, at).is_none());
                (!any).then(|| "matches none of the anyOf alternatives".to_string())
            }
            "not" => violation(value, rule, root, at).is_none().then(|| format!("matches what is excluded: {rule}")),
            other => panic!("the validator does not know the keyword {other}"),
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

fn check(record: &Json) -> Option<String> {
    let schema = schema();
    violation(record, &schema, &schema, "$")
}

fn exit_record() -> Exit {
    Exit {
        kind: 1026,
        kind_name: "SCX_EXIT_ERROR_STALL".into(),
        exit_code: 0,
        restart: false,
        reason: "runnable task stall".into(),
        message: "kworker/1:2[31] failed to run for 5.4s".into(),
        dump: vec!["Debug dump triggered by error".into(), "CPU 1".into()],
    }
}

/// A record of every kind, as schedc produces them.
fn every_kind_of_record() -> Vec<Record> {
    let second = Duration::from_secs(1);
    let stats = vec![
        Sample::new("nr_queued", StatKind::Counter, Value::Uint(42), Some(Value::Uint(40)), second),
        Sample::new("slice_eff", StatKind::Gauge, Value::Duration(-1), None, second),
        Sample::new("last_seen", StatKind::Gauge, Value::Time(9), None, second),
        Sample::new("bias", StatKind::Gauge, Value::Int(-3), None, second),
        Sample::new("busy", StatKind::Gauge, Value::Bool(true), None, second),
    ];
    let mut attached = Record::new(
        Duration::ZERO,
        "fifo",
        Body::Attached {
            params: vec![Setting::new("slice_max", Value::Duration(5_000_000)), Setting::new("on", Value::Bool(false))],
        },
    );
    attached.policy = Some("policies/fifo.policy".into());
    let mut records = vec![
        attached,
        Record::new(second, "fifo", Body::Interval { interval_ns: 1_000_000_000, stats: stats.clone() }),
        Record::new(
            second,
            "fifo",
            Body::Restart {
                attempt: 1,
                limit: 3,
                window_ns: 30_000_000_000,
                exit: Exit { restart: true, exit_code: stats_restart_code(), dump: vec![], ..exit_record() },
            },
        ),
        Record::new(second, "fifo", Body::Exit { stop: Stop::Ejected, exit: Some(exit_record()), stats }),
        Record::new(second, "fifo", Body::Exit { stop: Stop::Detached, exit: None, stats: vec![] }),
    ];
    records[3].object = Some("/tmp/fifo.bpf.o".into());
    records
}

fn stats_restart_code() -> i64 {
    schedc_abi::exit::ECODE_ACT_RESTART | schedc_abi::exit::ECODE_RSN_HOTPLUG
}

#[test]
fn every_record_matches_the_documented_schema() {
    for record in every_kind_of_record() {
        let line = record.to_json();
        assert!(!line.contains('\n'), "one line per record: {line}");
        let json: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(check(&json), None, "{line}");
        assert_eq!(Record::from_json(&line).unwrap(), record);
    }
}

#[test]
fn the_validator_refuses_records_that_break_the_schema() {
    let good: Json = serde_json::from_str(&every_kind_of_record()[1].to_json()).unwrap();
    let broken = |edit: &dyn Fn(&mut Json)| {
        let mut v = good.clone();
        edit(&mut v);
        check(&v)
    };
    type Edit = Box<dyn Fn(&mut Json)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("version", Box::new(|v| v["schedc_stats"] = json!(2))),
        ("missing field", Box::new(|v| drop(v.as_object_mut().unwrap().remove("elapsed_ns")))),
        ("extra field", Box::new(|v| v["colour"] = json!("red"))),
        ("time format", Box::new(|v| v["time"] = json!("yesterday"))),
        ("record kind", Box::new(|v| v["record"] = json!("tick"))),
        ("field of another kind", Box::new(|v| v["stop"] = json!("signal"))),
        ("stat kind", Box::new(|v| v["stats"][0]["kind"] = json!("histogram"))),
        ("negative rate", Box::new(|v| v["stats"][0]["rate"] = json!(-1.0))),
        ("value type", Box::new(|v| v["stats"][1]["value"] = json!("5ms"))),
        ("missing rate", Box::new(|v| drop(v["stats"][1].as_object_mut().unwrap().remove("rate")))),
    ];
    for (what, edit) in cases {
        assert!(broken(&*edit).is_some(), "a record with a wrong {what} passed");
    }
}

/// docs/stats.md names the version and every field of the schema, with the
/// same kinds of record.
#[test]
fn the_documentation_describes_the_schema() {
    let doc = std::fs::read_to_string(docs().join("stats.md")).expect("docs/stats.md");
    assert!(
        doc.contains(&format!("Version {}", stats::VERSION)),
        "docs/stats.md does not name version {}",
        stats::VERSION
    );
    let schema = schema();
    let documented = |name: &str| doc.contains(&format!("| `{name}` |"));
    let mut fields: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    for def in ["setting", "sample", "exit"] {
        fields.extend(schema["$defs"][def]["properties"].as_object().unwrap().keys());
    }
    let undocumented: Vec<&&String> = fields.iter().filter(|f| !documented(f)).collect();
    assert!(undocumented.is_empty(), "docs/stats.md has no table row for {undocumented:?}");
    for kind in schema["properties"]["record"]["enum"].as_array().unwrap() {
        assert!(doc.contains(&format!("`{}`", kind.as_str().unwrap())), "docs/stats.md does not describe {kind}");
    }
}
