// OpsWorks stack Custom JSON (+ optionally an instances file) -> a plone-aws stack file.
//
// Every key of the JSON is classified with the attribute table (attributes.ts): carried to a
// plone-aws key, carried as a secret (never written), or reported with the reason it is not;
// keys that are no cookbook key at all are reported as unknown. Each report line shows the value
// the JSON held (never a secret) and what it became. Secrets found inside other values (a token in
// a repository URL, a DATABASE_URL with a password, an Authorization header) become secret
// commands too, and no value that holds a credential is written. The result is validated the way
// `npm run plan` validates a stack file; import problems and validation errors come back together
// as ConfigIssues (key path + message), and nothing is written while there are any.
//
// The modules of the conversion: conversion.ts (the state, the walk over the JSON, the report),
// handlers.ts (the keys that are not a plain copy), finish.ts (deriving the stack from the facts),
// hosts.ts (the hosts and their layers), write.ts (the stack file).
import { Conversion, ImportOptions, ImportResult, isObject } from "./conversion";
import { finishConversion } from "./finish";
import { HANDLERS } from "./handlers";

export type { ImportOptions, ImportResult, Json, ReportKind } from "./conversion";

/** Converts; never throws for bad input (that becomes issues and report lines). */
export function importOpsWorks(json: unknown, o: ImportOptions): ImportResult {
    const c = new Conversion(o, HANDLERS);
    if (!isObject(json)) {
        c.issue(o.jsonFile, "a stack Custom JSON is a JSON object ({ ... })");
        return c.result();
    }
    c.readNames(json);
    for (const [key, value] of Object.entries(json)) c.walk(value, [key]);
    finishConversion(c);
    return c.result();
}
