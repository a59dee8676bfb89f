import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { type ConnectionInfo, GoneError, isGone, type Management } from "./management.js";

/**
 * Management through `@aws-sdk/client-apigatewaymanagementapi`: against AWS in Lambda, or
 * against the gateway's own `@connections` endpoint.
 *
 * @example
 * ```ts
 * const management = new SdkManagement({ endpoint: "http://127.0.0.1:3001/dev" });
 * await management.send(connectionId, JSON.stringify({ hello: "world" }));
 * ```
 */
export class SdkManagement implements Management {
  readonly client: ApiGatewayManagementApiClient;

  constructor(
    options: { endpoint: string; region?: string } | { client: ApiGatewayManagementApiClient },
  ) {
    this.client =
      "client" in options
        ? options.client
        : new ApiGatewayManagementApiClient({
            endpoint: options.endpoint,
            region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
          });
  }

  async send(connectionId: string, data: string | Uint8Array): Promise<void> {
    await this.#call(connectionId, () =>
      this.client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: typeof data === "string" ? Buffer.from(data) : data,
        }),
      ),
    );
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.#call(connectionId, () =>
      this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId })),
    );
  }

  async info(connectionId: string): Promise<ConnectionInfo> {
    const out = await this.#call(connectionId, () =>
      this.client.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    );
    return {
      connectedAt: out.ConnectedAt ?? new Date(0),
      lastActiveAt: out.LastActiveAt ?? new Date(0),
      identity: {
        sourceIp: out.Identity?.SourceIp ?? "",
        ...(out.Identity?.UserAgent ? { userAgent: out.Identity.UserAgent } : {}),
      },
    };
  }

  async #call<T>(connectionId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isGone(error)) throw new GoneError(connectionId, { cause: error });
      throw error;
    }
  }
}
