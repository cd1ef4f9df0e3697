/**
 * Railway infrastructure-as-code for personalfinance: the same service settings as
 * ../railway.toml, plus what that file cannot say (the volume and the variables).
 *
 * STATUS: prepared, not yet in force. Railway reads ../railway.toml (config-as-code) until
 * 2026-12-01, and a service cannot be managed by both files at once, so ../railway.toml is
 * authoritative today. To switch (before that date):
 *   1. delete ../railway.toml in the same commit that starts using this file;
 *   2. `railway link` (pick the project and environment), then `railway config plan`;
 *   3. read the plan: it must NOT delete or replace the volume `personalfinance-data`
 *      (omitting a resource from this file deletes it, and the volume holds the database);
 *   4. `railway config apply`.
 * `railway config migrate` generates an equivalent file from ../railway.toml; compare.
 * backend/tests/it/deploy.rs checks that every setting of ../railway.toml appears here with
 * the same value.
 *
 * The `railway` npm package provides `railway/iac`; it is not installed in this repository
 * (nothing here builds TypeScript): the Railway CLI evaluates this file.
 */
import { defineRailway, preserve, project, service, volume } from "railway/iac";

export default defineRailway(() => {
  /**
   * The SQLite database and its data marker live here. Railway mounts a volume only when the
   * app container starts: not during the build, not in preDeployCommand.
   * One volume per service, and a service with a volume runs one replica.
   */
  const data = volume("personalfinance-data");

  const backend = service("backend", {
    // No `source`: .github/workflows/deploy.yml deploys with `railway up` after a backup.
    // A GitHub source would deploy on every push without that backup.
    build: {
      builder: "DOCKERFILE",
      dockerfilePath: "Dockerfile",
    },
    deploy: {
      startCommand: "backend serve",
      // A separate container without the volume: migrates PostgreSQL before the new
      // deployment starts (a failure stops the deploy); on SQLite it does nothing.
      preDeployCommand: ["backend migrate --if-postgres"],
      healthcheckPath: "/health",
      healthcheckTimeout: 300,
      // The persistence guard exits non-zero on a misconfiguration: retrying cannot fix it.
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 3,
    },
    replicas: 1,
    // The Dockerfile's data folder; DATABASE_PATH below names the file on it.
    volumeMounts: {
      "/app/data": data,
    },
    env: {
      DATABASE_PATH: "/app/data/personalfinance.db",
      // Railway mounts volumes owned by root; the image's user (uid 10001) could not write.
      RAILWAY_RUN_UID: "0",
      // Secrets: set once in Railway (dashboard or `railway variables --set`), never here.
      API_TOKEN: preserve(),
      ADMIN_TOKEN: preserve(),
      // For PostgreSQL instead of SQLite: declare `const db = postgres("Postgres")`, add it to
      // `resources`, and set `DATABASE_URL: db.env.DATABASE_URL` (it wins over DATABASE_PATH).
      // Move the data first (`cargo xtask transfer`) and keep the volume until verified.
    },
  });

  return project("personalfinance", {
    resources: [backend, data],
  });
});
