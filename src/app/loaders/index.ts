export { loadArchitect } from "./architect.js";
export { loadCloudFormation } from "./cloudformation.js";
export {
  FOREIGN_CONFIG_FILES,
  type ForeignLoader,
  findForeignConfigFile,
  foreignLoaderFor,
} from "./detect.js";
export { loadLambdaSharp } from "./lambdasharp.js";
export { appFromConfig, loadNative } from "./native.js";
export { loadServerless, loadServerlessModule } from "./serverless.js";
