// Property test of input safety: every string key of the schema (walked from the zod schemas, so a
// new key is covered the day it is added) gets hostile values: a line break with a directive after
// it, both quote kinds, $(...), backquotes, NUL, an --option, 100 kB, substitutions. For each value
// either the configuration is refused by that key's path (one line per error, no trace), or every
// file of every host of dev and prod (with every optional key set) keeps its shape (lines, haproxy
// servers, supervisor programs, VCL backends, nginx servers), the changed files pass their daemon's
// validator, and running every changed script with --help (and bash -n) creates no file. Raw keys
// may change only the files their daemon validates before they go live (nginx, buildout).
//
// The keys are shared out over three files so that they run side by side (test/helpers/hostileChecks.ts):
// this one has the front end's keys (each accepted value goes through haproxy -c, varnishd -C, nginx -t).
import { describeHostileKeys } from "../helpers/hostileChecks";

describeHostileKeys("frontend");
