import { describeValue } from "../app/describe-value.js";
import type { App } from "../app/model.js";
import {
  authorizerRouteProblem,
  identitySourceProblem,
  type RuleProblem,
  routeCountProblem,
  routeKeyProblem,
  routeSelectionProblem,
  stageProblem,
} from "../app/rules.js";
import { ConfigError, type ConfigIssue } from "../errors.js";

/**
 * The rules every loader's apps pass (`finishApp`), for an app built by `testRoutes`: a test
 * must not pass with routes API Gateway would refuse (`$conect`, an authorizer without
 * `$connect`, a bad selection expression). Throws a {@link ConfigError} listing every problem.
 */
export function checkTestApp(app: App): void {
  const issues: ConfigIssue[] = [];
  const add = (path: string, problem: RuleProblem | undefined) => {
    if (problem) issues.push({ file: app.source.file, path, ...problem });
  };
  const keys = app.routes.map((route) => route.key);
  add("routes", routeCountProblem(keys.length));
  for (const key of keys) add(`routes.${key}`, routeKeyProblem(key, keys));
  add("stage", stageProblem(app.stage, describeValue));
  add("routeSelectionExpression", routeSelectionProblem(app.routeSelectionExpression));
  if (app.authorizer) {
    add("authorizer", authorizerRouteProblem(keys));
    app.authorizer.identitySource.forEach((source, i) => {
      add(`authorizer.identitySource.${i}`, identitySourceProblem(source));
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
