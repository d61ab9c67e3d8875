" Vim syntax file for schedc scheduling policies (*.policy).
if exists("b:current_syntax")
  finish
endif

syn case match

syn keyword schedcItem       scheduler param class global cpuset counter gauge on
" Later matches win: a lone `task` is the current task, at a line start an item,
" and `task.x` a fact.
syn match   schedcFact       "\<\(task\|system\|event\|waker\|cpu\)\>"
" `task`, `queue` and `cpu` also start facts (task.nvcsw, cpu.NAME): as items
" only at a line start.
syn match   schedcItem       "^\s*\zs\(task\|queue\|cpu\)\>"
syn keyword schedcItem       select_cpu enqueue dispatch slice vtime preempt timeout with const fn
syn keyword schedcControl    if then else let every trace when found kick idle default starve after in all keep_running reenqueue local at lowest enqueue_last enqueue_exiting partial enqueue_migration_disabled allow_queued_wakeup
syn keyword schedcOperator   and or not is starts_with
syn keyword schedcModifier   per_cpu per_llc per_node shared fifo charge lag deadline dynamic
syn keyword schedcType       duration time uint int bool
syn keyword schedcEvent      join wakeup runnable running stopping quiescent tick timer cpu_release
syn keyword schedcPreference pinned prev_core idle_core prev prev_llc waker any
syn keyword schedcConstant   true false none
syn keyword schedcBuiltin    min max clamp ewma log2 first elapsed

syn match   schedcFact       "\<\(task\|system\|event\|waker\|queue\|cpu\)\.\h\w*\(\.\h\w*\)\="
syn match   schedcNumber     "\<\d[0-9_]*\>"
syn match   schedcDuration   "\<\d[0-9_]*\(ns\|us\|ms\|s\)\>"
syn match   schedcArrow      "->"
syn match   schedcDeclName   "\(\<\(scheduler\|param\|queue\|class\|task\|global\|cpu\|cpuset\|counter\|gauge\)\s\+\)\@<=\h\w*"

syn region  schedcString     start=+"+ end=+"+ end=+$+ oneline
syn match   schedcComment    "#.*$" contains=schedcTodo,@Spell
syn keyword schedcTodo       contained TODO FIXME XXX NOTE

hi def link schedcItem       Statement
hi def link schedcControl    Conditional
hi def link schedcOperator   Operator
hi def link schedcModifier   StorageClass
hi def link schedcType       Type
hi def link schedcEvent      Function
hi def link schedcPreference Constant
hi def link schedcConstant   Boolean
hi def link schedcBuiltin    Function
hi def link schedcFact       Identifier
hi def link schedcNumber     Number
hi def link schedcDuration   Number
hi def link schedcArrow      Operator
hi def link schedcDeclName   Identifier
hi def link schedcString     String
hi def link schedcComment    Comment
hi def link schedcTodo       Todo

let b:current_syntax = "schedc"
