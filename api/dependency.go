package main

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
)

// The parts of the stack a 503 names, so an operator reading the answer
// (or the alert built on it) knows which one to look at.
const (
	depPostgres = "Postgres"
	depTemporal = "Temporal"
	depS3       = "S3"
)

// dependencyPackages maps the packages whose errors come from one part of
// the stack to its name: pgx is only ever Postgres, the AWS SDK only S3
// here, and Temporal's service errors and gRPC statuses only Temporal.
var dependencyPackages = []struct{ prefix, name string }{
	{"github.com/jackc/pgx/", depPostgres},
	{"github.com/jackc/puddle/", depPostgres},
	{"github.com/aws/", depS3},
	{"go.temporal.io/api/serviceerror", depTemporal},
	{"google.golang.org/grpc", depTemporal},
}

// dependencyOf names the part of the stack err comes from, by the package
// of the errors in its chain (wrapped and joined ones too), or "" when no
// error in it says.
func dependencyOf(err error) string {
	if err == nil {
		return ""
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, p := range dependencyPackages {
		if strings.HasPrefix(t.PkgPath(), p.prefix) {
			return p.name
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return dependencyOf(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if name := dependencyOf(e); name != "" {
				return name
			}
		}
	}
	return ""
}

// unavailable answers the 503 for err, naming the part of the stack it
// comes from; fallback is named when err does not say (the part the
// failed call went to). A request its caller may repeat says to repeat it
// with the same Idempotency-Key.
func unavailable(err error, fallback string) *problem {
	name := dependencyOf(err)
	if name == "" {
		name = fallback
	}
	detail := "a dependency is unavailable"
	switch {
	case name != "" && errors.Is(err, context.DeadlineExceeded):
		detail = name + " did not answer in time"
	case name != "":
		detail = name + " is unavailable"
	}
	return newProblem(http.StatusServiceUnavailable, detail+"; retry with the same Idempotency-Key")
}
