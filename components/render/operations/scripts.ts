// Where the operations scripts live on a host (PATHS.sbinDir): the configure step installs them,
// the scheduled jobs and `npm run ops` run them.
import { PATHS } from "../../topology";

/** The operations scripts, in PATHS.sbinDir. */
export const OPS_SCRIPTS = {
    status: `${PATHS.sbinDir}/plone-status`,
    service: `${PATHS.sbinDir}/plone-service`,
    program: `${PATHS.sbinDir}/plone-program`,
    varnishPurge: `${PATHS.sbinDir}/plone-varnish-purge`,
    pack: `${PATHS.sbinDir}/plone-pack`,
    backup: `${PATHS.sbinDir}/plone-backup`,
    restore: `${PATHS.sbinDir}/plone-restore`,
    pgdump: `${PATHS.sbinDir}/plone-pgdump`,
} as const;
