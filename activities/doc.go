// Package activities holds Handoff's side effects as Temporal activities:
// methods on one struct per system touched (Notifier for email and
// webhooks, later Accounts, Evidence and Projection), each struct holding
// its clients and registered once in the worker.
package activities
