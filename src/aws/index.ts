export type {
  AwsOptions,
  CustomDomainOptions,
  LambdaArchitecture,
  LambdaRuntime,
  Throttle,
} from "./aws-options.js";
export { DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME } from "./aws-options.js";
export type { BuildOptions, BuildResult, BuiltFunction } from "./build.js";
export { buildAwsApp } from "./build.js";
export type { FunctionBundle } from "./bundle.js";
export { bundleFunction } from "./bundle.js";
export type { ArtifactKeys, CfnParameter, CfnResource, CfnTemplate } from "./compile-template.js";
export {
  compileTemplate,
  connectionTableProperties,
  defaultArtifactKey,
} from "./compile-template.js";
export type { DeployOptions, DeployResult } from "./deploy.js";
export { DeployError, deployAwsApp } from "./deploy.js";
export type { AppPlan, FunctionPlan, RoutePlan } from "./function-plan.js";
export { logicalName, planApp } from "./function-plan.js";
export type { LambdaEntrySpec } from "./lambda-entry.js";
export { lambdaEntry } from "./lambda-entry.js";
export type { TemplateIssue } from "./validate-template.js";
export { checkTemplate, TemplateValidationError, validateTemplate } from "./validate-template.js";
export type { ZipArchive } from "./zip.js";
export { deterministicZip } from "./zip.js";
