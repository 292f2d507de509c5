// Package workflows holds Handoff's workflow definitions with their inputs,
// results, update, signal and query names, ID helpers and the typed search
// attributes operators filter on in the Temporal Web UI.
package workflows

// TaskQueue is the default task queue of every Handoff workflow; deployments
// override it with HANDOFF_TASK_QUEUE.
const TaskQueue = "handoff"
