//! Code generation end to end: every shipped policy (`policies/`) and every
//! construct policy (`tests/constructs/`, which together use every construct
//! of the language) is checked, rendered to C, built with clang, and the
//! object is inspected: the ops map in `.struct_ops.link`, each parameter in
//! `.rodata` with its C size, the statistics as globals, the manifest in
//! `.schedc.manifest`, and the license.
//!
//! Without a clang 16 or newer the tests that build are reported ignored,
//! with a `SKIPPED:` line, except under CI, where they fail.
//!
//! Also here: policies that check but once produced unsound C (kept as
//! regression cases), and `schedc compile`'s refusal to overwrite files.

mod common;

use common::{display_name, policies_in, render, root};

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol, SectionIndex};
use serde_json::Value;

use schedc_compiler::build::{build_object, build_object_without_warnings, Clang};
use schedc_compiler::model::{Model, StatKind, ValueType};
use schedc_compiler::{check_source, generate_c};
use schedc_testkit as testkit;

fn main() {
    let clang = Clang::find().map_err(|e| e.to_string());
    let mut trials = testkit::needing_all!(
        "clang 16 or newer",
        clang.clone(),
        [
            shipped_policies_build_into_complete_objects,
            construct_policies_build_into_complete_objects,
            policies_that_check_build_into_sound_objects,
            compile_writes_an_object_and_may_replace_one,
        ]
    );
    // The slowest test of the suite (it checks some 10,000 names): CI runs
    // it on every submission, a local `cargo test` reports it ignored.
    let in_ci = if testkit::in_ci() { clang.clone() } else { Err("a run under CI=true".to_string()) };
    trials.extend(testkit::needing_all!("CI", in_ci, [names_the_checker_accepts_give_sound_c]));
    trials.extend(testkit::always_all![
        construct_policies_cover_the_language,
        name_clash_detection_works,
        every_name_declared_inside_the_generated_functions_is_reserved,
        every_lower_case_macro_of_the_headers_is_reserved,
        operator_check_ignores_comments_and_strings,
        compile_refuses_to_write_over_the_policy,
        compile_refuses_to_write_over_a_file_it_did_not_make,
        compile_emits_the_generated_c,
        the_wake_up_note_goes_last_unless_on_runnable_reads_it,
    ]);
    testkit::run(trials)
}

/// Runs `f` on every item with a few threads; results keep the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker thread")).collect()
    })
}

// ---------------------------------------------------------------- the object

/// The C size of a value of this type.
fn c_size(ty: ValueType) -> u64 {
    match ty {
        ValueType::Bool => 1,
        _ => 8,
    }
}

fn section_named<'a>(file: &'a object::File<'a>, name: &str) -> Option<object::Section<'a, 'a>> {
    file.sections().find(|s| s.name() == Ok(name))
}

/// Symbol name → (section name, size) for every named symbol of the object.
fn symbols(file: &object::File) -> BTreeMap<String, (String, u64)> {
    let section_name =
        |index: SectionIndex| file.section_by_index(index).ok().and_then(|s| s.name().ok().map(str::to_string));
    file.symbols()
        .filter_map(|sym| {
            let name = sym.name().ok().filter(|n| !n.is_empty())?.to_string();
            let section = sym.section_index().and_then(section_name)?;
            Some((name, (section, sym.size())))
        })
        .collect()
}

/// Everything wrong with the object built from `model`.
fn object_problems(model: &Model, bytes: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let file = match object::File::parse(bytes) {
        Ok(file) => file,
        Err(e) => return vec![format!("the object is not a readable ELF file: {e}")],
    };
    if file.architecture() != object::Architecture::Bpf {
        problems.push(format!("the object is for {:?}, not BPF", file.architecture()));
    }
    let syms = symbols(&file);

    // The ops map, and a program for each of its callbacks.
    let ops = format!("{}_ops", model.name);
    match section_named(&file, ".struct_ops.link") {
        None => problems.push("no .struct_ops.link section".to_string()),
        Some(_) => match syms.get(&ops) {
            Some((section, size)) if section == ".struct_ops.link" && *size > 0 => {}
            other => {
                problems.push(format!("`{ops}` should be a non-empty symbol in .struct_ops.link, found {other:?}"))
            }
        },
    }
    for member in ["enqueue", "dispatch", "init", "exit"] {
        let program = format!("{}_{member}", model.name);
        match syms.get(&program) {
            Some((section, _)) if section.starts_with("struct_ops") => {}
            other => problems
                .push(format!("callback `{program}` should be a program in a struct_ops section, found {other:?}")),
        }
    }

    // Parameters: read-only data, sized as their C type.
    if !model.params.is_empty() && section_named(&file, ".rodata").is_none() {
        problems.push("the policy has parameters but the object has no .rodata section".to_string());
    }
    for p in &model.params {
        match syms.get(&p.name) {
            Some((section, size)) if section == ".rodata" && *size == c_size(p.ty) => {}
            other => problems.push(format!(
                "parameter `{}` ({}) should be a {}-byte symbol in .rodata, found {other:?}",
                p.name,
                p.ty.keyword(),
                c_size(p.ty)
            )),
        }
    }
    // Statistics: writable globals the runtime reads.
    for s in &model.stats {
        match syms.get(&s.name) {
            Some((section, size)) if (section == ".bss" || section == ".data") && *size == c_size(s.ty) => {}
            other => problems.push(format!(
                "statistic `{}` should be a {}-byte symbol in .bss or .data, found {other:?}",
                s.name,
                c_size(s.ty)
            )),
        }
    }

    // A dynamic set a rule rewrites: a writable bitmap of every CPU.
    for s in model.cpusets.iter().filter(|s| s.assigned) {
        let bits = format!("schedc_cpuset_{}", s.name);
        match syms.get(&bits) {
            Some((section, 512)) if section == ".bss" || section == ".data" => {}
            other => problems.push(format!(
                "dynamic set `{}` should be a 512-byte bitmap `{bits}` in .bss or .data, found {other:?}",
                s.name
            )),
        }
    }

    // The manifest, as the runtime reads it.
    match section_named(&file, ".schedc.manifest").map(|s| s.data().map(<[u8]>::to_vec)) {
        None => problems.push("no .schedc.manifest section".to_string()),
        Some(Err(e)) => problems.push(format!("cannot read .schedc.manifest: {e}")),
        Some(Ok(data)) => problems.extend(manifest_problems(model, &data)),
    }

    match section_named(&file, "license").map(|s| s.data().map(<[u8]>::to_vec)) {
        Some(Ok(data)) if data == b"GPL\0" => {}
        other => problems.push(format!("the license section should hold \"GPL\\0\", found {other:?}")),
    }
    problems
}

fn manifest_problems(model: &Model, data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let text = text.trim_end_matches('\0');
    let json: Value = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(e) => return vec![format!("the manifest is not JSON ({e}): {text}")],
    };
    let mut problems = Vec::new();
    let mut expect = |what: &str, got: &Value, want: Value| {
        if *got != want {
            problems.push(format!("manifest {what}: expected {want}, found {got}"));
        }
    };
    expect("schedc", &json["schedc"], Value::from(1));
    expect("scheduler", &json["scheduler"], Value::from(model.name.clone()));
    expect("description", &json["description"], Value::from(model.description.clone()));
    expect("timeout_ms", &json["timeout_ms"], Value::from(model.timeout_ms));
    let params = json["params"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    let want: Vec<&str> = model.params.iter().map(|p| p.name.as_str()).collect();
    expect("params", &Value::from(names.clone()), Value::from(want));
    for (p, entry) in model.params.iter().zip(&params) {
        let what = format!("param `{}`", p.name);
        expect(&format!("{what} symbol"), &entry["symbol"], Value::from(p.name.clone()));
        expect(&format!("{what} type"), &entry["type"], Value::from(p.ty.keyword()));
        let default = match p.ty {
            ValueType::Bool => Value::from(p.default != 0),
            ValueType::Uint => Value::from(p.default as u64),
            _ => Value::from(p.default as i64),
        };
        expect(&format!("{what} default"), &entry["default"], default);
        expect(&format!("{what} doc"), &entry["doc"], Value::from(p.doc.clone()));
    }
    let stats = json["stats"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = stats.iter().filter_map(|s| s["name"].as_str()).collect();
    let want: Vec<&str> = model.stats.iter().map(|s| s.name.as_str()).collect();
    expect("stats", &Value::from(names), Value::from(want));
    for (s, entry) in model.stats.iter().zip(&stats) {
        let kind = match s.kind {
            StatKind::Counter => "counter",
            StatKind::Gauge => "gauge",
        };
        expect(&format!("stat `{}` kind", s.name), &entry["kind"], Value::from(kind));
        expect(&format!("stat `{}` type", s.name), &entry["type"], Value::from(s.ty.keyword()));
    }
    problems
}

// ---------------------------------------------------------------- names in the C

/// Names the generated C defines at file scope (macros, enumerators,
/// variables, functions) and the locals its functions declare.
struct CNames {
    file_scope: Vec<String>,
    locals: BTreeSet<String>,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn c_names(c: &str) -> CNames {
    const TYPES: &[&str] = &["s64", "u64", "bool", "s32", "u32", "u8"];
    let mut file_scope = Vec::new();
    let mut locals = BTreeSet::new();
    let mut in_enum = false;
    let mut in_struct = false;
    for line in c.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            file_scope.push(name);
            continue;
        }
        if line.starts_with("enum ") && line.ends_with('{') {
            in_enum = true;
            continue;
        }
        if in_enum {
            if line.starts_with('}') {
                in_enum = false;
            } else if let Some((name, _)) = line.trim().split_once(" = ") {
                file_scope.push(name.to_string());
            }
            continue;
        }
        // Struct members live in their own namespace.
        if line.starts_with("struct ") && line.ends_with('{') && !line.contains(" = ") {
            in_struct = true;
            continue;
        }
        if in_struct {
            in_struct = !line.starts_with('}');
            continue;
        }
        if let Some(head) = line.strip_suffix(" = {") {
            // The ops map: `struct sched_ext_ops NAME_ops = {`.
            file_scope.push(head.rsplit(' ').next().unwrap_or("").to_string());
            continue;
        }
        if line.starts_with(['\t', ' ', '/', '*', '#', '}', '{']) || line.is_empty() {
            // A local: `\tTYPE NAME = ...;` or `\tTYPE NAME;` at any depth.
            let t = line.trim_start_matches('\t');
            if line.starts_with('\t') {
                if let Some((ty, rest)) = t.split_once(' ') {
                    let name = rest.split([' ', ';']).next().unwrap_or("");
                    if TYPES.contains(&ty) && is_ident(name) && (rest.contains(" = ") || rest.ends_with(';')) {
                        locals.insert(name.to_string());
                    }
                }
            }
            continue;
        }
        if let Some(open) = line.find('(') {
            // A function: `... NAME(` or `... SCHEDC_OPS(NAME, ...`.
            let head = &line[..open];
            let name = if head.ends_with("SCHEDC_OPS") || head.ends_with("SCHEDC_OPS_SLEEPABLE") {
                line[open + 1..].split([',', ')']).next().unwrap_or("").to_string()
            } else {
                head.rsplit([' ', '*']).next().unwrap_or("").to_string()
            };
            if is_ident(&name) && !line.starts_with("SEC") && !line.starts_with("SCHEDC_MANIFEST") {
                file_scope.push(name);
            }
            continue;
        }
        if let Some(decl) = line.strip_suffix(';') {
            // A variable: `[const volatile|static] TYPE NAME[ = INIT]` or `... NAME[N]`.
            let decl = decl.split(" = ").next().unwrap_or(decl);
            let decl = decl.split('[').next().unwrap_or(decl);
            let name = decl.rsplit(' ').next().unwrap_or("");
            if is_ident(name) {
                file_scope.push(name.to_string());
            }
        }
    }
    CNames { file_scope, locals }
}

/// Every name the generated C defines must be defined once: a policy name
/// that also names a generated macro, enumerator, function or variable
/// either breaks the build or, worse, silently changes what the C means.
fn name_clashes(c: &str) -> Vec<String> {
    let names = c_names(c);
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for name in &names.file_scope {
        if !seen.insert(name.as_str()) {
            problems.push(format!("`{name}` is defined twice at file scope"));
        }
    }
    for name in &names.locals {
        if seen.contains(name.as_str()) {
            problems.push(format!("the local `{name}` hides the file-scope `{name}`"));
        }
    }
    problems
}

/// The C without its comments and string literals.
fn code_only(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    let mut chars = c.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Generated code never increments or decrements: a `--` or `++` in it is
/// two of the policy's signs run together, which C reads as a decrement.
fn operator_problems(c: &str) -> Vec<String> {
    code_only(c)
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("--") || line.contains("++"))
        .map(|(i, line)| format!("C line {}: `--` or `++` in generated code: {}", i + 1, line.trim()))
        .collect()
}

// ---------------------------------------------------------------- building

/// Checks, renders and builds one policy; returns its problems.
fn build_and_inspect(clang: &Clang, name: &str, src: &str, dir: &Path) -> Vec<String> {
    let checked = match check_source(name, src) {
        Ok(checked) => checked,
        Err(reports) => return vec![format!("fails to check:\n{}", render(&reports))],
    };
    let c = generate_c(&checked);
    let mut problems = name_clashes(&c);
    problems.extend(operator_problems(&c));
    let stem = Path::new(name).file_stem().map_or("policy".into(), |s| s.to_string_lossy().into_owned());
    let out = dir.join(format!("{stem}.bpf.o"));
    if let Err(e) = build_object_without_warnings(clang, &checked.model.name, &c, &out) {
        problems.push(format!("does not build without warnings: {}", clang_errors(&e.to_string())));
        return problems;
    }
    let bytes = fs::read(&out).expect("the object was written");
    problems.extend(object_problems(&checked.model, &bytes));
    problems
}

/// The error lines of clang's output, as `FILE:LINE:COL: error: ...` without
/// the temporary directories (the rest is noise in a test report).
fn clang_errors(output: &str) -> String {
    let errors: Vec<&str> = output
        .lines()
        .filter_map(|line| {
            let at = line.find("error:")?;
            let start = line[..at].rfind(" /").map_or(0, |i| i + 1);
            let message = &line[start..];
            Some(match message.find(".bpf.c:") {
                Some(i) => &message[message[..i].rfind('/').map_or(0, |j| j + 1)..],
                None => message,
            })
        })
        .collect();
    if errors.is_empty() {
        output.to_string()
    } else {
        format!("clang says:\n    {}", errors.join("\n    "))
    }
}

fn build_folder(clang: &Clang, dir: &str, min_files: usize) {
    let files = policies_in(dir);
    assert!(files.len() >= min_files, "expected at least {min_files} policies in {dir}, found {}", files.len());
    let out = tempfile::tempdir().expect("temporary directory");
    let results = parallel_map(&files, |path| {
        let name = display_name(path);
        let src = fs::read_to_string(path).expect("readable");
        (name.clone(), build_and_inspect(clang, &name, &src, out.path()))
    });
    let failures: Vec<String> = results
        .into_iter()
        .filter(|(_, problems)| !problems.is_empty())
        .map(|(name, problems)| format!("{name}:\n  {}", problems.join("\n  ")))
        .collect();
    assert!(failures.is_empty(), "{} of {} policies failed:\n\n{}", failures.len(), files.len(), failures.join("\n\n"));
}

fn shipped_policies_build_into_complete_objects(clang: Clang) {
    build_folder(&clang, "policies", 4);
}

fn construct_policies_build_into_complete_objects(clang: Clang) {
    build_folder(&clang, "tests/constructs", 10);
}

/// The construct policies together use every construct of the language.
fn construct_policies_cover_the_language() {
    let all: String =
        policies_in("tests/constructs").iter().map(|p| fs::read_to_string(p).expect("readable")).collect();
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map(str::to_string).collect()
    };
    let used = words(&all);
    let required = [
        // events, CPU preferences, queues
        "on join",
        "on wakeup",
        "on enqueue",
        "on running",
        "on tick",
        "on stopping",
        "on timer",
        "on cpu_release",
        "reenqueue local",
        "pinned",
        "prev_core",
        "idle_core",
        "prev",
        "any",
        "default",
        "found",
        "kick",
        "per_cpu",
        "shared",
        "fifo",
        "vtime",
        // items and statements
        "starve after",
        "slice",
        "vtime charge",
        "vtime lag",
        "preempt",
        "preempt urgent at task",
        "at lowest",
        "class",
        "none",
        "is",
        "let",
        "every",
        "elapsed",
        "trace",
        "if",
        "else",
        "then",
        "and",
        "or",
        "not",
        "param",
        "global",
        "task",
        // per-CPU state and a chosen CPU's (with a space: found as text)
        "\ncpu ",
        " cpu.switches",
        " cpu(task.cpu).switches",
        " cpu(task.cpu).queue.",
        "counter",
        "gauge",
        "timeout",
        "in",
        // a CPU set rules rewrite
        "dynamic",
        " = first(",
        // functions and conversions
        "min",
        "max",
        "clamp",
        "ewma",
        "log2",
        "int",
        "uint",
        // facts
        "task.nvcsw",
        "task.weight",
        "task.kthread",
        "task.nr_cpus_allowed",
        "task.migration_disabled",
        "task.running",
        "task.ppid",
        "waker.ppid",
        "task.cgroup",
        "task.uid",
        "task.gid",
        "task.pid",
        "task.comm",
        "task.vruntime",
        "task.slice_left",
        "task.cpu",
        "task.class",
        "system.now",
        "system.nr_cpus",
        "system.smt",
        "system.vtime_now",
        "event.prev_cpu",
        "event.sync",
        "event.runnable",
        "waker.realtime",
        "waker.kthread",
        "event.hardirq",
        "event.softirq",
        // the waker's own per-task variables, read and assigned
        " waker.wakes += ",
        "when waker.top_wakee",
    ];
    let mut missing = Vec::new();
    for construct in required {
        let present = if construct.contains(' ') { all.contains(construct) } else { used.contains(construct) };
        if !present {
            missing.push(construct);
        }
    }
    for needle in [
        ".len",
        ".inserted",
        "= slice ",
        "+=",
        "-=",
        "when ",
        "else if",
        "\"",
        "% ",
        "/ ",
        ": bool",
        ": int",
        ": uint",
        ": duration",
        ": time",
        "in -",
    ] {
        if !all.contains(needle) {
            missing.push(needle);
        }
    }
    assert!(missing.is_empty(), "no construct policy uses: {missing:?}");
}

// ---------------------------------------------------------------- regressions

/// Policies that pass the checker but once gave C that clang rejects or that
/// means something else than the policy says. Each must now be either
/// rejected by the checker or built into a sound object.
const SOUNDNESS_CASES: &[(&str, &str)] = &[
    (
        "only shared queues: the last dispatch call lost its closing parenthesis",
        "scheduler only_shared \"x\"\nqueue q shared fifo\nenqueue {\n    else -> q\n}\ndispatch {\n    q\n}\n",
    ),
    (
        "only shared queues, the last one with a starvation limit",
        "scheduler only_shared_starve \"x\"\nqueue a shared fifo\nqueue b shared fifo\nenqueue {\n    task.kthread -> a\n    else -> b\n}\ndispatch {\n    a\n    b starve after 10ms\n}\n",
    ),
    (
        "vtime charge reads event.runnable (allowed by the language)",
        "scheduler charge_runnable \"x\"\nqueue direct per_cpu fifo\nqueue fair shared vtime\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> fair\n}\ndispatch {\n    direct\n    fair\n}\nvtime charge = if event.runnable then 1ms else 2ms\n",
    ),
    (
        "vtime charge without any vtime queue (only a warning)",
        "scheduler charge_unused \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\nvtime charge = 1ms\n",
    ),
    (
        "a per-task variable named sampled_at next to an every block",
        "scheduler sampled \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\ntask sampled_at: int = 0\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non stopping {\n    every 1s { task.sampled_at += 1 }\n}\nslice = if task.sampled_at > 0 then 1ms else 2ms\n",
    ),
    (
        "a global named like a generated callback",
        "scheduler cb \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nglobal cb_enqueue: int = 0\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running { cb_enqueue += 1 }\nslice = if cb_enqueue > 0 then 1ms else 2ms\n",
    ),
    (
        "a scheduler named schedc: its exit callback is the header's schedc_exit",
        "scheduler schedc \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\n",
    ),
    (
        "a scheduler named scx_bpf: its dispatch callback is the scx_bpf_dispatch kfunc",
        "scheduler scx_bpf \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\n",
    ),
    (
        "two queues whose names differ only in case share one DSQ macro",
        "scheduler case_q \"x\"\nqueue direct per_cpu fifo\nqueue fast shared fifo\nqueue FAST shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    task.kthread -> fast\n    else -> FAST\n}\ndispatch {\n    direct\n    fast\n    FAST\n}\n",
    ),
    (
        "a class named NONE is the built-in CLASS_NONE",
        "scheduler class_none \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nclass NONE \"upper case none\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running { task.class = NONE }\nslice = if task is NONE then 1ms else 2ms\n",
    ),
    (
        "a parameter named like a queue's DSQ macro reads the DSQ id instead",
        "scheduler dsq_param \"x\"\nqueue direct per_cpu fifo\nqueue shared shared fifo\nparam DSQ_SHARED: int = 1 \"x\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> shared\n}\ndispatch {\n    direct\n    shared\n}\nslice = if DSQ_SHARED > 0 then 1ms else 2ms\n",
    ),
    (
        "a parameter named like a header macro",
        "scheduler macro_param \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nparam NSEC_PER_MSEC: duration = 5ms \"x\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\nslice = NSEC_PER_MSEC\n",
    ),
    (
        "a parameter named like a kernel enumerator",
        "scheduler enum_param \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nparam SCX_SLICE_DFL: duration = 5ms \"x\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\nslice = SCX_SLICE_DFL\n",
    ),
    (
        "a let named like a class constant changes what `task.class = busy` stores",
        "scheduler let_class \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nclass busy \"b\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non stopping {\n    let CLASS_BUSY = 0\n    task.class = busy\n    if CLASS_BUSY > 0 { task.slice_left = 1ms }\n}\nslice = if task is busy then 1ms else 2ms\n",
    ),
    (
        "a let named floor in vtime lag",
        "scheduler let_floor \"x\"\nqueue direct per_cpu fifo\nqueue fair shared vtime\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> fair\n}\ndispatch {\n    direct\n    fair\n}\nvtime charge = 1ms\nvtime lag {\n    let floor = 1ms\n    task.slice_left = floor\n    2ms\n}\n",
    ),
    (
        "a double negation became C's decrement operator: `- -task.b` decremented task.b",
        "scheduler negneg \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\ntask a: int = 0\ntask b: int = 5\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running {\n    task.a = - -task.b\n}\nslice = if task.a > 0 then 1ms else 2ms\n",
    ),
    (
        "a double negation of a duration literal: `--(18 * NSEC_PER_MSEC)` is not assignable",
        "scheduler negneg2 \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running {\n    task.slice_left += --18ms\n}\n",
    ),
    (
        "class facts in a policy without classes",
        "scheduler noclass \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    task is none -> q\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running {\n    task.class = none\n}\n",
    ),
    (
        "a global named ctx: inside a callback `ctx` is BPF_PROG's context pointer",
        "scheduler ctx_global \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nglobal ctx: int = 5\nglobal g: int = 0\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running { g = ctx + 1 }\nslice = if g > 0 then 1ms else 2ms\n",
    ),
    (
        "a let named ctx",
        "scheduler ctx_let \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nglobal g: int = 0\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non running {\n    let ctx = 5\n    g = ctx\n}\nslice = if g > 0 then 1ms else 2ms\n",
    ),
    (
        "a parameter named _license, the header's license string",
        "scheduler license_param \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nparam _license: int = 5 \"x\"\nselect_cpu {\n    prev\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\nslice = if _license > 0 then 1ms else 2ms\n",
    ),
    (
        "a let named is_idle in on wakeup with the default CPU selection",
        "scheduler let_idle \"x\"\nqueue direct per_cpu fifo\nqueue q shared fifo\nselect_cpu {\n    default\n    found -> direct\n}\nenqueue {\n    else -> q\n}\ndispatch {\n    direct\n    q\n}\non wakeup {\n    let is_idle = 1\n    if is_idle > 0 { task.slice_left = 1ms }\n}\n",
    ),
];

fn policies_that_check_build_into_sound_objects(clang: Clang) {
    let out = tempfile::tempdir().expect("temporary directory");
    let results = parallel_map(SOUNDNESS_CASES, |(what, src)| {
        let name = format!("case{}.policy", SOUNDNESS_CASES.iter().position(|(w, _)| w == what).expect("listed"));
        match check_source(&name, src) {
            Err(_) => Vec::new(), // rejected: fine
            Ok(_) => build_and_inspect(&clang, &name, src, out.path()),
        }
    });
    let failures: Vec<String> = SOUNDNESS_CASES
        .iter()
        .zip(results)
        .filter(|(_, problems)| !problems.is_empty())
        .map(|((what, src), problems)| {
            format!("{what}:\n  {}\n  policy:\n    {}", problems.join("\n  "), src.trim_end().replace('\n', "\n    "))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} policies check but do not build into sound objects:\n\n{}",
        failures.len(),
        SOUNDNESS_CASES.len(),
        failures.join("\n\n")
    );
}

fn name_clash_detection_works() {
    let c = "#define DSQ_A SCHEDC_SHARED_DSQ(0)\n#define DSQ_A SCHEDC_SHARED_DSQ(1)\nconst volatile s64 k = 1;\nenum schedc_class {\n\tCLASS_NONE = 0, /* x */\n\tCLASS_B = 1,\n};\nstatic u8 schedc_running_class[SCHEDC_MAX_CPUS];\ns32 SCHEDC_OPS(x_init)\n{\n\ts64 CLASS_B = 0;\n\tu64 now = 1;\n}\n";
    let names = c_names(c);
    assert_eq!(names.file_scope, ["DSQ_A", "DSQ_A", "k", "CLASS_NONE", "CLASS_B", "schedc_running_class", "x_init"]);
    assert_eq!(names.locals.iter().collect::<Vec<_>>(), ["CLASS_B", "now"]);
    assert_eq!(name_clashes(c).len(), 2, "{:?}", name_clashes(c));
}

/// The names the generated C declares inside the callbacks and the
/// functions that hold policy code (a `/* X.policy:N ... */` line): locals,
/// parameters and loop counters. (Helpers without policy code may name
/// their locals freely.)
fn function_scope_names(c: &str) -> BTreeSet<String> {
    let local = fancy_regex::Regex::new(
        r"(?m)^\t+(?:const\s+)?(?:(?:struct|union|enum)\s+\w+|[su](?:8|16|32|64)|bool|int|long|unsigned)\s+\**(\w+)\s*(?:=|;|\[)",
    )
    .expect("a valid pattern");
    let function =
        fancy_regex::Regex::new(r"(?m)^(?:\w[\w\s\*]*)?\b(?:SCHEDC_OPS(?:_SLEEPABLE)?\(\w+,|\w+\()([^)]*)\)$")
            .expect("a valid pattern");
    let counter = fancy_regex::Regex::new(r"\bbpf_for(?:_each)?\((?:\w+,\s*)?(\w+),").expect("a valid pattern");
    let first_groups = |re: &fancy_regex::Regex, code: &str| -> Vec<String> {
        re.captures_iter(code).map(|c| c.expect("matches").get(1).map_or("", |m| m.as_str()).to_string()).collect()
    };
    let mut names = BTreeSet::new();
    // A function runs from its head at column 0 to the `}` at column 0.
    let mut lines = c.lines().peekable();
    while let Some(head) = lines.next() {
        if lines.peek() != Some(&"{") || head.starts_with(['\t', ' ', '#', '/', '*']) {
            continue;
        }
        let mut body = format!("{head}\n");
        for line in lines.by_ref() {
            body.push_str(line);
            body.push('\n');
            if line == "}" {
                break;
            }
        }
        // Every callback may hold policy code in some policy.
        if !body.contains(".policy:") && !head.contains("SCHEDC_OPS") {
            continue;
        }
        let code = code_only(&body);
        names.extend(first_groups(&local, &code));
        names.extend(first_groups(&counter, &code));
        for params in first_groups(&function, &code) {
            for param in params.split(',') {
                let name = param.trim().rsplit([' ', '*']).next().unwrap_or("");
                if is_ident(name) && name != "void" && param.trim().contains(' ') {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

/// A policy global of a name the generated C also declares inside a
/// function would be hidden there, and the C would silently read the
/// wrong variable: every such name must be one the checker refuses. The
/// shipped, construct and VM-test policies together use every construct,
/// so their C declares every such name.
fn every_name_declared_inside_the_generated_functions_is_reserved() {
    let mut unreserved: BTreeMap<String, String> = BTreeMap::new();
    let policies = [policies_in("tests/constructs"), policies_in("policies"), policies_in("tests/vm")].concat();
    for path in &policies {
        let src = fs::read_to_string(path).expect("readable");
        let checked = check_source("x.policy", &src).unwrap_or_else(|r| panic!("{}: {}", path.display(), render(&r)));
        for name in function_scope_names(&generate_c(&checked)) {
            // The policy's own `let`s and function parameters.
            let own = fancy_regex::Regex::new(&format!(r"\blet\s+{name}\b|\bfn\s+\w+\([^)]*\b{name}\s*:"))
                .expect("a valid pattern");
            if own.is_match(&src).expect("matches") {
                continue;
            }
            if accepted_as_global(&name) {
                unreserved.entry(name).or_insert_with(|| display_name(path));
            }
        }
    }
    assert!(
        unreserved.is_empty(),
        "names the generated C declares in a function, which a policy may also declare: {unreserved:?}"
    );
}

fn operator_check_ignores_comments_and_strings() {
    let c = "\t/* a -- b ++ */\n\tbpf_printk(\"x--y \\\" ++\");\n\tx = -(-y);\n";
    assert!(operator_problems(c).is_empty(), "{:?}", operator_problems(c));
    assert_eq!(operator_problems("\tx = --y;\n").len(), 1);
}

// ---------------------------------------------------------------- schedc compile

fn schedc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("schedc runs");
    let code = out.status.code().expect("schedc exits normally");
    (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn copy_fifo(dir: &Path) -> PathBuf {
    let policy = dir.join("fifo.policy");
    fs::copy(root().join("policies/fifo.policy"), &policy).expect("copy the policy");
    policy
}

fn compile_refuses_to_write_over_the_policy() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path());
    let before = fs::read(&policy).expect("readable");
    let p = policy.display().to_string();
    for emit in ["c", "obj"] {
        let (code, stdout, stderr) = schedc(&["compile", &p, "-o", &p, "--emit", emit]);
        assert_eq!(code, 1, "--emit {emit}: stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains("refusing to write the output over the policy"), "--emit {emit}: {stderr}");
        assert_eq!(fs::read(&policy).expect("readable"), before, "--emit {emit}: the policy was changed");
    }
    // The same file by another path is still the policy.
    let other = dir.path().join(".").join("fifo.policy").display().to_string();
    let (code, _, stderr) = schedc(&["compile", &p, "-o", &other, "--emit", "c"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(fs::read(&policy).expect("readable"), before);
}

fn compile_refuses_to_write_over_a_file_it_did_not_make() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path()).display().to_string();
    let notes = dir.path().join("notes.o");
    fs::write(&notes, "precious notes, not an object\n").expect("writable");
    let n = notes.display().to_string();
    let (code, stdout, stderr) = schedc(&["compile", &policy, "-o", &n]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("is not a BPF object; refusing to overwrite it"), "{stderr}");
    assert_eq!(fs::read_to_string(&notes).expect("readable"), "precious notes, not an object\n");

    // Nor is an ELF file for another machine, such as a program.
    let program = dir.path().join("true");
    fs::copy("/bin/true", &program).expect("a program to protect");
    let before = fs::read(&program).expect("readable");
    let (code, _, stderr) = schedc(&["compile", &policy, "-o", &program.display().to_string()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not a BPF object"), "{stderr}");
    assert_eq!(fs::read(&program).expect("readable"), before);

    // Hand-written C is not overwritten with generated C either.
    let c_file = dir.path().join("mine.bpf.c");
    fs::write(&c_file, "/* my own scheduler */\n").expect("writable");
    let c = c_file.display().to_string();
    let (code, _, stderr) = schedc(&["compile", &policy, "-o", &c, "--emit", "c"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not C generated by schedc; refusing to overwrite it"), "{stderr}");
    assert_eq!(fs::read_to_string(&c_file).expect("readable"), "/* my own scheduler */\n");
}

fn compile_emits_the_generated_c() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path()).display().to_string();
    let out = dir.path().join("out.bpf.c");
    let o = out.display().to_string();
    let (code, stdout, stderr) = schedc(&["compile", &policy, "-o", &o, "--emit", "c"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("wrote {o}")), "{stdout}");
    let written = fs::read_to_string(&out).expect("the C was written");
    let src = fs::read_to_string(root().join("policies/fifo.policy")).expect("readable");
    let checked = check_source("policies/fifo.policy", &src).expect("fifo checks");
    assert_eq!(written, generate_c(&checked), "the CLI writes exactly the generated C");
    // Its own output may be overwritten.
    let (code, _, stderr) = schedc(&["compile", &policy, "-o", &o, "--emit", "c"]);
    assert_eq!(code, 0, "{stderr}");
    // Without -o the C lands beside the policy.
    let (code, _, stderr) = schedc(&["compile", &policy, "--emit", "c"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fs::read_to_string(dir.path().join("fifo.bpf.c")).expect("written beside the policy"), written);
}

/// `schedc compile` finds clang itself; `_clang` says there is one.
fn compile_writes_an_object_and_may_replace_one(_clang: Clang) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path()).display().to_string();
    let out = dir.path().join("fifo.bpf.o");
    let o = out.display().to_string();
    for round in 0..2 {
        let (code, stdout, stderr) = schedc(&["compile", &policy, "-o", &o]);
        assert_eq!(code, 0, "round {round}: stdout:\n{stdout}\nstderr:\n{stderr}");
        let bytes = fs::read(&out).expect("the object was written");
        assert!(bytes.starts_with(b"\x7fELF"), "round {round}: not an ELF file");
    }
    assert!(!dir.path().join("fifo.bpf.o.partial").exists(), "no staging file is left behind");
}

// ---------------------------------------------------------------- names

/// The header and the libbpf headers it includes, directly or not.
fn header_texts() -> Vec<String> {
    let mut texts: Vec<String> = vec![schedc_compiler::build::SCHEDC_BPF_H.to_string()];
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut i = 0;
    while i < texts.len() {
        let includes: Vec<String> = texts[i]
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("#include"))
            .map(|l| {
                l.trim().trim_matches(|c| c == '<' || c == '>' || c == '"').rsplit('/').next().unwrap_or("").to_string()
            })
            .collect();
        for file in includes {
            if let Some((name, text)) = libbpf_rs::libbpf_sys::API_HEADERS.iter().find(|(n, _)| *n == file) {
                if seen.insert(name) {
                    texts.push(text.to_string());
                }
            }
        }
        i += 1;
    }
    texts
}

/// Whether the checker takes `name` for a global that a callback writes.
fn accepted_as_global(name: &str) -> bool {
    let src = format!(
        "scheduler r \"r\"\nqueue q shared fifo\nglobal {name}: int = 0\non tick {{ {name} += 1 }}\n\
         enqueue {{\n    else -> q\n}}\ndispatch {{\n    q\n}}\n"
    );
    check_source("r.policy", &src).is_ok()
}

/// A policy function named like a macro of the headers would be expanded
/// as the macro (`fn likely(x)`): every lower-case macro is refused.
fn every_lower_case_macro_of_the_headers_is_reserved() {
    let define = fancy_regex::Regex::new(r"(?m)^\s*#\s*define\s+([a-z][a-z0-9_]*)").expect("a valid pattern");
    let mut macros = BTreeSet::new();
    for text in header_texts() {
        for found in define.captures_iter(&text) {
            macros.insert(found.expect("matches").get(1).map_or("", |m| m.as_str()).to_string());
        }
    }
    assert!(macros.contains("likely"), "the headers were read: {macros:?}");
    let accepted: Vec<&String> = macros.iter().filter(|m| accepted_as_global(m)).collect();
    assert!(accepted.is_empty(), "macros of the headers a policy may name: {accepted:?}");
}

/// Every lower-case identifier of the C around a policy: the header, the
/// libbpf headers it includes, and the C generated for the construct
/// policies. Each is a name a policy might pick.
fn c_identifiers() -> BTreeSet<String> {
    let mut texts = header_texts();
    for path in policies_in("tests/constructs").iter().chain(&policies_in("policies")) {
        let src = fs::read_to_string(path).expect("readable");
        if let Ok(checked) = check_source("x.policy", &src) {
            texts.push(generate_c(&checked));
        }
    }
    // Functions clang knows without a declaration (C library builtins):
    // a file-scope variable of that name is a redefinition.
    texts.push(
        "abort abs acos asin atan atan2 atexit atof atoi atol calloc ceil cos cosh div exit exp exp2 fabs floor fmax fmin fmod \
         fprintf free frexp hypot index isalnum isalpha isdigit islower isprint isspace isupper labs ldexp llabs log log10 log2 \
         longjmp malloc memchr memcmp memcpy memmove memset modf nan pow printf putchar puts qsort rand realloc rindex round \
         setjmp sin sinh snprintf sprintf sqrt strcat strchr strcmp strcpy strdup strlen strncmp strncpy strrchr strstr strtol \
         tan tanh tolower toupper trunc vprintf alloca bzero bcopy signal raise"
            .to_string(),
    );
    // ELF section names clang gives symbols of their own.
    texts.push("license maps version rodata bss data text".to_string());
    let mut out = BTreeSet::new();
    for text in &texts {
        // Words in comments are not names of anything.
        let text = code_only(text);
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if is_ident(word) && word.len() <= 64 && !word.chars().any(|c| c.is_ascii_uppercase()) {
                out.insert(word.to_string());
            }
        }
    }
    out
}

/// A policy that uses each of `names` in one role, in every callback and
/// helper the generated C has.
fn names_policy(role: &str, names: &[&str]) -> String {
    let (mut decls, mut body, mut cond) = (String::new(), String::new(), "true".to_string());
    let mut scheduler = "names".to_string();
    let mut extra_queues = String::new();
    let mut extra_routes = String::new();
    let mut extra_serves = String::new();
    for name in names {
        match role {
            "global" => {
                decls.push_str(&format!("global {name}: int = int(system.nr_cpus)\n"));
                body.push_str(&format!("    {name} += 1\n"));
                cond = format!("{name} > 0");
            }
            "param" => {
                decls.push_str(&format!("param {name}: int = 1 \"p\"\n"));
                body.push_str(&format!("    task.tv0 += {name}\n"));
                cond = format!("{name} > 0");
            }
            "gauge" => {
                decls.push_str(&format!("gauge {name}: int = int(system.nr_cpus) \"g\"\n"));
                body.push_str(&format!("    {name} -= 1\n"));
            }
            "let" => body.push_str(&format!("    let {name} = task.tv0\n    task.tv0 += {name}\n")),
            "task" => {
                decls.push_str(&format!("task {name}: int = task.pid\n"));
                body.push_str(&format!("    task.{name} += 1\n"));
            }
            "cpu" => {
                decls.push_str(&format!("cpu {name}: int = 1\n"));
                body.push_str(&format!("    cpu.{name} += cpu(task.cpu).{name}\n"));
            }
            "queue" => {
                extra_queues.push_str(&format!("queue {name} shared vtime\n"));
                extra_routes.push_str(&format!("    task.tv0 == 7 and queue.{name}.len > 0 -> {name} kick\n"));
                extra_serves.push_str(&format!("    {name} starve after 20ms\n"));
                decls.push_str(&format!("counter inserted{} = queue.{name}.inserted \"n\"\n", decls.len()));
            }
            "fn" => {
                decls.push_str(&format!("fn {name}(a: int) = a + 1\n"));
                body.push_str(&format!("    task.tv0 += {name}(1)\n"));
            }
            "class" => {
                decls.push_str(&format!("class {name} \"c\"\n"));
                body.push_str(&format!("    if task is {name} {{ task.class = {name} }}\n"));
            }
            "scheduler" => scheduler = name.to_string(),
            _ => unreachable!("roles are listed below"),
        }
    }
    format!(
        "scheduler {scheduler} \"names\" timeout 5s\n\
         queue direct per_cpu vtime\nqueue shared shared vtime\n{extra_queues}\
         class k0 \"k\"\ntask tv0: int = 0\n{decls}\
         on join {{\n{body}}}\non wakeup {{\n{body}}}\non enqueue {{\n{body}}}\n\
         on running {{\n{body}    every 1s {{ task.tv0 += 1 }}\n}}\n\
         on stopping {{\n{body}    task.class = k0\n    every 2s {{ task.tv0 -= 1 }}\n}}\n\
         select_cpu {{\n    prev when {cond}\n    any\n    found -> direct kick\n}}\n\
         enqueue {{\n{extra_routes}    task is k0 -> shared kick\n    else -> shared\n}}\n\
         dispatch {{\n    direct\n    shared starve after 10ms\n{extra_serves}}}\n\
         slice {{\n{body}    5ms\n}}\nvtime charge {{\n{body}    1ms\n}}\nvtime lag {{\n{body}    1ms\n}}\npreempt k0\n"
    )
}

/// How many names one policy declares as `let`s: the checker refuses more
/// locals than the BPF stack holds.
const LETS_PER_POLICY: usize = 8;

/// How many names one policy declares as queues: each queue brings an
/// enqueue route, and clang cannot build a BPF function so long that a
/// branch spans more than 32,767 instructions (some 800 routes).
const QUEUES_PER_POLICY: usize = 200;

/// How many names one policy declares as per-CPU variables: each adds a
/// bounds-checked read and a write to every rule, and clang cannot build a
/// callback whose branches span more than 32,767 instructions.
const CPU_VARS_PER_POLICY: usize = 200;

/// The roles a name can take in a policy (see `names_policy`).
const ROLES: [&str; 9] = ["global", "param", "gauge", "let", "task", "cpu", "queue", "class", "fn"];

/// Problems of the C generated for `src`: names defined twice, runs of
/// signs that C reads as `--`, and clang's errors.
fn names_policy_problems(clang: &Clang, src: &str, out: &Path) -> Vec<String> {
    let checked = match check_source("n.policy", src) {
        Ok(checked) => checked,
        Err(reports) => return vec![format!("fails to check though its names passed:\n{}", render(&reports))],
    };
    let c = generate_c(&checked);
    let mut problems = name_clashes(&c);
    problems.extend(operator_problems(&c));
    let dir = tempfile::tempdir_in(out).expect("temporary directory");
    if let Err(e) = build_object(clang, &checked.model.name, &c, &dir.path().join("n.bpf.o")) {
        problems.push(format!("does not build: {}", clang_errors(&e.to_string())));
    }
    problems
}

/// Builds the names of one role into one object; if it is unsound, halves
/// the names until the problems are pinned on single names.
fn role_problems(clang: &Clang, role: &str, names: &[&str], out: &Path) -> Vec<String> {
    let problems = names_policy_problems(clang, &names_policy(role, names), out);
    match names {
        _ if problems.is_empty() => Vec::new(),
        [name] => vec![format!("{role} {name}:\n  {}", problems.join("\n  "))],
        _ => {
            let (first, second) = names.split_at(names.len() / 2);
            let mut pinned = role_problems(clang, role, first, out);
            pinned.extend(role_problems(clang, role, second, out));
            if pinned.is_empty() {
                // Each half is sound, the whole is not: report the whole.
                pinned.push(format!("{role} names {}:\n  {}", names.join(" "), problems.join("\n  ")));
            }
            pinned
        }
    }
}

/// Scheduler names whose callbacks (`NAME_enqueue`, …) or ops map
/// (`NAME_ops`) are among `identifiers`.
fn clashing_scheduler_names(identifiers: &[&str]) -> BTreeSet<String> {
    let members = [
        "select_cpu",
        "enqueue",
        "dispatch",
        "running",
        "stopping",
        "enable",
        "init_task",
        "cpu_online",
        "cpu_offline",
        "init",
        "exit",
        "ops",
    ];
    let mut schedulers = BTreeSet::new();
    for id in identifiers {
        for m in members {
            if let Some(prefix) = id.strip_suffix(&format!("_{m}")) {
                if is_ident(prefix) {
                    schedulers.insert(prefix.to_string());
                }
            }
        }
    }
    schedulers
}

/// Any name the checker accepts, in any role, must give sound C: the
/// names of the header, of libbpf's headers and of the generated code are
/// each tried as a global, a parameter, a gauge, a `let`, a per-task
/// variable, a per-CPU variable, a queue, a class and a function; all the ones the checker accepts in a
/// role go into one policy, which must build and define every name once.
/// A scheduler whose name makes a callback (`NAME_enqueue`, …) equal to
/// one of those identifiers is tried on its own.
fn names_the_checker_accepts_give_sound_c(clang: Clang) {
    let identifiers = c_identifiers();
    let identifiers: Vec<&str> = identifiers.iter().map(String::as_str).collect();
    // Each name is checked alone in each role, on every core.
    let pairs: Vec<(&str, &str)> =
        ROLES.iter().flat_map(|role| identifiers.iter().map(move |name| (*role, *name))).collect();
    let passes = parallel_map(&pairs, |(role, name)| check_source("n.policy", &names_policy(role, &[name])).is_ok());
    let accepted: Vec<Vec<&str>> = ROLES
        .iter()
        .map(|role| {
            pairs.iter().zip(&passes).filter(|((r, _), ok)| r == role && **ok).map(|((_, name), _)| *name).collect()
        })
        .collect();
    for (role, names) in ROLES.iter().zip(&accepted) {
        assert!(!names.is_empty(), "the checker accepts no name as a {role}");
    }
    let schedulers: Vec<String> = clashing_scheduler_names(&identifiers)
        .into_iter()
        .filter(|name| check_source("n.policy", &names_policy("scheduler", &[name])).is_ok())
        .collect();
    let out = tempfile::tempdir().expect("temporary directory");
    // One object per role (`let`s and queues in batches: see their limits),
    // then one per scheduler name.
    let roles: Vec<(&str, &[&str])> = ROLES
        .iter()
        .zip(&accepted)
        .flat_map(|(role, names)| {
            let batch = match *role {
                "let" => LETS_PER_POLICY,
                "queue" => QUEUES_PER_POLICY,
                "cpu" => CPU_VARS_PER_POLICY,
                _ => names.len(),
            };
            names.chunks(batch).map(move |chunk| (*role, chunk))
        })
        .collect();
    let mut failures = parallel_map(&roles, |(role, names)| role_problems(&clang, role, names, out.path())).concat();
    failures.extend(
        parallel_map(&schedulers, |name| {
            let problems = names_policy_problems(&clang, &names_policy("scheduler", &[name]), out.path());
            (!problems.is_empty()).then(|| format!("scheduler name {name}:\n  {}", problems.join("\n  ")))
        })
        .into_iter()
        .flatten(),
    );
    assert!(failures.is_empty(), "{} unsound name policies:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn compile_outputs_follow_the_umask() {
    let Some(_clang) = clang_or_skip("compile_outputs_follow_the_umask") else { return };
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path()).display().to_string();
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        for emit in ["c", "obj"] {
            let out = dir.path().join(format!("fifo-{umask}.{emit}"));
            let script = format!("umask {umask} && exec \"$0\" compile \"$1\" --emit {emit} -o \"$2\"");
            let status = Command::new("/bin/sh")
                .args(["-c", &script, env!("CARGO_BIN_EXE_schedc"), &policy, &out.display().to_string()])
                .status()
                .expect("sh runs");
            assert!(status.success(), "umask {umask} --emit {emit}");
            let got = fs::metadata(&out).expect("written").permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {umask} --emit {emit}: mode {got:o}");
        }
    }
}

#[test]
fn compile_to_dash_writes_stdout() {
    let Some(_clang) = clang_or_skip("compile_to_dash_writes_stdout") else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let policy = copy_fifo(dir.path());
    let p = policy.display().to_string();
    let (code, c, stderr) = schedc(&["compile", &p, "--emit", "c", "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(c.contains("Generated by schedc from"), "{c}");
    assert!(!dir.path().join("-").exists() && !dir.path().join("fifo.bpf.c").exists(), "only stdout is written");

    // An object is binary: the same manifest as in the one -o writes (the
    // bytes differ in the build's temporary paths).
    let out = Command::new(env!("CARGO_BIN_EXE_schedc")).args(["compile", &p, "-o", "-"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = dir.path().join("fifo.bpf.o");
    let (code, _, stderr) = schedc(&["compile", &p, "-o", &file.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    let manifest = |bytes: &[u8]| {
        let obj = object::File::parse(bytes).expect("an object on stdout");
        section_named(&obj, ".schedc.manifest").expect("a manifest").data().expect("readable").to_vec()
    };
    assert_eq!(manifest(&out.stdout), manifest(&fs::read(&file).expect("written")));
}

/// ops.runnable notes the runtime at a wake-up for `task.awake_runtime`:
/// after the `on runnable` block (fewer paths for the verifier) unless the
/// block reads `task.awake_runtime`, itself or through a function.
fn the_wake_up_note_goes_last_unless_on_runnable_reads_it() {
    let note = "if (enq_flags & SCHEDC_ENQ_WAKEUP)";
    let policy = |on_runnable: &str| {
        format!(
            "scheduler s \"x\"\nqueue q shared vtime\ntask seen: duration = 0ns\n\
             fn awake() = task.awake_runtime\n\
             on runnable {{\n    {on_runnable}\n}}\nenqueue {{\n    else -> q\n}}\n\
             dispatch {{\n    q\n}}\nvtime charge = 1ms\nvtime deadline = min(task.awake_runtime, 1ms)\n"
        )
    };
    for (on_runnable, note_first) in
        [("task.seen = task.runtime", false), ("task.seen = task.awake_runtime", true), ("task.seen = awake()", true)]
    {
        let checked = check_source("s.policy", &policy(on_runnable)).unwrap_or_else(|r| panic!("{}", render(&r)));
        let c = generate_c(&checked);
        let runnable = &c[c.find("SCHEDC_OPS(s_runnable").expect("ops.runnable")..];
        let runnable = &runnable[..runnable.find("\n}\n").expect("its end")];
        let (at_note, at_block) =
            (runnable.find(note).expect(note), runnable.find("on runnable {").expect("the block"));
        assert_eq!(at_note < at_block, note_first, "{on_runnable}:\n{runnable}");
    }
}
