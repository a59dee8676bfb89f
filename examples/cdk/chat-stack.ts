/**
 * The chat example deployed with AWS CDK instead of `switchboard deploy`:
 *
 *   switchboard build examples/chat --out build/chat
 *   npx cdk synth --app "npx tsx examples/cdk/chat-stack.ts build/chat"
 *
 * The functions run the zips `switchboard build` made (one per function, handler index.handler);
 * SwitchboardWebSocket creates the API around them.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { App, Duration, Stack, type StackProps } from "aws-cdk-lib";
import { Architecture, Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { SwitchboardWebSocket } from "switchboard/cdk";

export interface ChatStackProps extends StackProps {
  /** The output folder of `switchboard build examples/chat`. */
  buildDir: string;
}

export class ChatStack extends Stack {
  readonly ws: SwitchboardWebSocket;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const fn = (name: string) =>
      new LambdaFunction(this, name, {
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        handler: "index.handler",
        code: Code.fromAsset(path.join(props.buildDir, "functions", `${name}.zip`)),
        memorySize: 1024,
        timeout: Duration.seconds(29),
        environment: {
          CHAT_USERS: "alice,bob,carol,dave,erin",
          NODE_OPTIONS: "--enable-source-maps",
        },
      });
    this.ws = new SwitchboardWebSocket(this, "Chat", {
      name: "chat-dev",
      stage: "dev",
      connect: fn("Connect"),
      disconnect: fn("Disconnect"),
      default: fn("Default"),
      routes: { send: fn("Send"), whoami: fn("Whoami") },
      twoWay: ["whoami"],
      connectionTable: { ttl: Duration.hours(2), indexes: ["room", "user"] },
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const app = new App();
  new ChatStack(app, "ChatStack", { buildDir: path.resolve(process.argv[2] ?? "build/chat") });
  app.synth();
}
