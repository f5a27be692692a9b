// What the pip builder (app.builder pip) does not build yet: the parts a buildout makes that have no
// pip-built counterpart in plone-aws. Each is refused with what to do instead, rather than rendering
// programs and jobs that run scripts the release does not have.
import type { ParsedSections } from "./spec";
import { ConfigIssue, keyPath } from "./issues";

export function builderIssues(s: Partial<ParsedSections>): ConfigIssue[] {
    const { app, plone, hosts } = s;
    if (app?.builder !== "pip") return [];
    const errors: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    if (plone?.celery.enabled)
        err(
            ["plone", "celery", "enabled"],
            "the pip builder runs no celery programs (bin/celery comes from a buildout): set it to false, or use app.builder buildout",
        );
    if (plone?.solr.enabled)
        err(
            ["plone", "solr", "enabled"],
            "the pip builder runs no Solr (bin/solr-instance comes from a buildout): set it to false, or use app.builder buildout",
        );
    if (plone?.storage === "relstorage" && (plone.relstorage.cacheServers.length > 0 || hosts?.some((h) => h.layers.includes("memcached"))))
        err(
            ["plone", "relstorage", "cacheServers"],
            "cookiecutter-zope-instance has no setting for RelStorage's memcached servers, so the pip builder cannot give them to the clients: remove the memcached layer and plone.relstorage.cacheServers, or use app.builder buildout",
        );
    for (const [key, set] of [
        ["rawBuildoutConfig", app.rawBuildoutConfig !== ""],
        ["buildoutExtends", app.buildoutExtends.length > 0],
        ["partsToInclude", app.partsToInclude.length > 0],
        ["cacheArchives", app.cacheArchives.length > 0],
        ["pipPackages", app.pipPackages.length > 0],
    ] as const) {
        if (set) err(["app", key], `a buildout setting, and app.builder is pip: remove it (the pip builder's tools are app.pip.tools)`);
    }
    return errors;
}
