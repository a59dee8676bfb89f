import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_IDS_PER_REQUEST } from "../../src/cluster/bus-messages.js";
import { refusedStatus, TestClient } from "../helpers/client.js";
import { eventually } from "../helpers/eventually.js";
import type { RedisDeployment } from "../helpers/redis-deployment.js";
import { REPO_ROOT, repoScratchDir } from "../helpers/repo-paths.js";
import { type StartNode, startNode as startNodeProcess } from "../helpers/start-node.js";

// The `switchboard start` suite: three nodes (child processes running dist/, built by the
// global setup) on a Redis deployment of the calling file's own. Run by start.test.ts (one
// Redis instance) and start-redis-cluster.test.ts (a 3-master Redis Cluster).

export const START_APP = path.join(REPO_ROOT, "test", "fixtures", "start");
/** The fixture's keys and channels: the default prefix, `switchboard:{<app>:<stage>}:`. */
export const START_PREFIX = "switchboard:{start-fixture:prod}:";
const REGION = "us-east-1";
const DOMAIN = "chat.example.test";

export interface StartSuiteNode extends StartNode {
  /** The file its handlers record events in. */
  events: string;
}

/** What a file adding its own tests to the suite (`extra`) reads, once the nodes are up. */
export interface StartSuite {
  readonly redis: RedisDeployment;
  /** a, b (`--drain-timeout 10`) and c (`--drain-timeout 2`). */
  readonly nodes: StartSuiteNode[];
}

async function whoami(client: TestClient): Promise<{ connectionId: string; domainName: string }> {
  return client.ask({ action: "whoami" });
}

/**
 * The suite, in a `describe` of its own. `deploy` starts the Redis the nodes use (stopped after);
 * `extra` adds tests that run first, while all three nodes are up.
 */
export function describeStartSuite(
  title: string,
  deploy: () => Promise<RedisDeployment>,
  extra?: (suite: StartSuite) => void,
): void {
  const KEY = {
    accessKeyId: "SBTESTKEY00000000001",
    secretAccessKey: randomBytes(20).toString("hex"),
  };
  const TMP = repoScratchDir("start");
  let redis: RedisDeployment;
  const nodes: StartSuiteNode[] = [];

  async function startNode(name: string, extraArgs: string[] = []): Promise<StartSuiteNode> {
    const events = path.join(TMP, `${name}.log`);
    const node = await startNodeProcess(
      START_APP,
      ["--domain", DOMAIN, "--intercept", ...extraArgs],
      {
        REDIS_URL: redis.url,
        AWS_REGION: REGION,
        SWITCHBOARD_ACCESS_KEY_ID: KEY.accessKeyId,
        SWITCHBOARD_SECRET_ACCESS_KEY: KEY.secretAccessKey,
        EVENTS_LOG: events,
      },
      name,
    );
    return { ...node, events };
  }

  function sdk(node: StartSuiteNode, credentials = KEY): ApiGatewayManagementApiClient {
    return new ApiGatewayManagementApiClient({
      endpoint: `${node.http}/prod`,
      region: REGION,
      credentials: { ...credentials },
      maxAttempts: 1,
    });
  }

  async function metric(
    node: StartSuiteNode,
    name: string,
    labels = "",
  ): Promise<number | undefined> {
    const text = await (await fetch(`${node.admin}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : undefined;
  }

  /** Headers of a request signed with the configured key (a body the test then may change). */
  async function signedRequest(url: string, method: string, body: string) {
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Hash } = await import("@smithy/hash-node");
    const u = new URL(url);
    const signer = new SignatureV4({
      credentials: KEY,
      region: REGION,
      service: "execute-api",
      sha256: Hash.bind(null, "sha256"),
    });
    const signed = await signer.sign({
      method,
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: {},
      headers: { host: u.host },
      body,
    });
    // fetch sets the same Host itself.
    const { host: _host, ...headers } = signed.headers;
    return headers;
  }

  const ownerKey = (connectionId: string) => `${START_PREFIX}cluster:owner:${connectionId}`;
  const channelOf = (node: StartSuiteNode) =>
    `${START_PREFIX}cluster:node:${node.lines[0]?.node as string}`;

  describe(title, () => {
    beforeAll(async () => {
      mkdirSync(TMP, { recursive: true });
      redis = await deploy();
      nodes.push(
        ...(await Promise.all([
          startNode("a"),
          startNode("b", ["--drain-timeout", "10"]),
          startNode("c", ["--drain-timeout", "2"]),
        ])),
      );
    }, 90_000);

    afterAll(async () => {
      for (const node of nodes) if (node.child.exitCode === null) node.child.kill("SIGKILL");
      await redis?.stop();
      rmSync(TMP, { recursive: true, force: true });
    });

    extra?.({
      get redis() {
        return redis;
      },
      nodes,
    });

    it("every node logs its Redis and the app's hash-tagged prefix, and listens on a channel of its own", async () => {
      for (const node of nodes) {
        expect(node.lines[0]).toMatchObject({
          event: "listening",
          redis: redis.url,
          keyPrefix: START_PREFIX,
          node: expect.stringMatching(/^[0-9a-f]{12}$/),
        });
      }
      expect((await redis.channels(`${START_PREFIX}cluster:node:*`)).sort()).toEqual(
        nodes.map(channelOf).sort(),
      );
    });

    it("serves clients on every node; the SDK with the configured keys posts, gets and deletes across nodes", async () => {
      const [a, b, c] = nodes as [StartSuiteNode, StartSuiteNode, StartSuiteNode];
      const clients = await Promise.all([a, b, c].map((n) => TestClient.connect(n.url)));
      const [onA, onB, onC] = clients as [TestClient, TestClient, TestClient];
      const ids = await Promise.all(clients.map(whoami));
      // Handlers see the app's public domain.
      expect(ids.map((i) => i.domainName)).toEqual([DOMAIN, DOMAIN, DOMAIN]);
      const [idA, idB, idC] = ids.map((i) => i.connectionId) as [string, string, string];

      // Node a's management API reaches connections on b and c.
      await sdk(a).send(new PostToConnectionCommand({ ConnectionId: idC, Data: "to c via a" }));
      expect(await onC.next()).toBe("to c via a");
      await sdk(c).send(new PostToConnectionCommand({ ConnectionId: idA, Data: "to a via c" }));
      expect(await onA.next()).toBe("to a via c");
      const info = await sdk(a).send(new GetConnectionCommand({ ConnectionId: idB }));
      expect(info.Identity?.SourceIp).toBe("127.0.0.1");
      expect(info.ConnectedAt).toBeInstanceOf(Date);

      // A plain handler builds its client from https://{domainName}/{stage}: signed with the
      // node's keys, it reaches a node and the cluster delivers to b.
      onA.send({ action: "relay", to: idB, data: "relayed from a" });
      expect(await onB.next()).toBe("relayed from a");

      await sdk(b).send(new DeleteConnectionCommand({ ConnectionId: idA }));
      expect(await onA.closed).toEqual({ code: 1000, reason: "Connection Closed Normally" });
      await expect(
        sdk(b).send(new PostToConnectionCommand({ ConnectionId: idA, Data: "x" })),
      ).rejects.toMatchObject({ name: "GoneException", $metadata: { httpStatusCode: 410 } });
      await Promise.all([onB.close(), onC.close()]);
    });

    it("a typed broadcast over three nodes: one bus message per remote owner node and batch of ids; every client gets it once", async () => {
      const [a, b, c] = nodes as [StartSuiteNode, StartSuiteNode, StartSuiteNode];
      const PER_NODE = 30;
      const onNode = await Promise.all(
        [a, b, c].map((node) =>
          Promise.all(
            Array.from({ length: PER_NODE }, async () => {
              const client = await TestClient.connect(node.url);
              return { client, id: (await whoami(client)).connectionId };
            }),
          ),
        ),
      );
      type Member = { client: TestClient; id: string };
      const [onA, onB, onC] = onNode as [Member[], Member[], Member[]];
      const everyone = onNode.flat();
      // Ids b owns in Redis but no longer holds (closed while Redis missed it): enough to take
      // b's share past one message's bound. b answers them gone, as a connection that closed.
      const bNode = await redis.client.get(ownerKey(onB[0]?.id as string));
      expect(bNode).toBe(b.lines[0]?.node);
      const ghosts = Array.from(
        { length: MAX_IDS_PER_REQUEST },
        (_, i) => `ghost${String(i).padStart(9, "0")}=`,
      );
      const write = redis.client.pipeline();
      for (const id of ghosts) write.set(ownerKey(id), bNode as string, "PX", 60_000);
      await write.exec();
      // And an id nobody claims: gone without a message.
      const unknown = "AAAAAAAAAAAAAAA=";
      // Interleaved, as a table's list would give them.
      const ids = [
        ...Array.from({ length: PER_NODE }, (_, i) =>
          [onA[i], onB[i], onC[i]].map((x) => x?.id as string),
        ).flat(),
        ...ghosts,
        unknown,
      ];

      const requests: Array<{ channel: string; op: string; ids: string[] }> = [];
      const stopWatching = await redis.watch(nodes.map(channelOf), (channel, text) => {
        const message = JSON.parse(text) as { re?: string; op: string; connectionIds?: string[] };
        if (message.re === undefined) {
          requests.push({ channel, op: message.op, ids: message.connectionIds ?? [] });
        }
      });
      try {
        const sender = onA[0]?.client as TestClient;
        sender.send({ action: "broadcast", ids, data: { news: "to everyone" } });
        for (const { client } of everyone) {
          expect(await client.nextJson(10_000)).toEqual({ news: "to everyone" });
        }
        expect(await sender.nextJson()).toEqual({
          sent: everyone.map((x) => x.id).sort(),
          gone: [...ghosts, unknown].sort(),
          failed: [],
        });
        // Exactly once: nothing else arrives for anyone.
        const silent = await Promise.all(everyone.map(({ client }) => client.silentFor(300)));
        expect(silent.every(Boolean)).toBe(true);

        // On the bus: b got its 1,030 ids in two requests (the bound is 1,000 per request),
        // c its 30 in one, a (the sender's node, which sent its own directly) none.
        const to = (node: StartSuiteNode) => requests.filter((r) => r.channel === channelOf(node));
        expect(requests.every((r) => r.op === "send")).toBe(true);
        expect(to(a)).toEqual([]);
        expect(
          to(b)
            .map((r) => r.ids.length)
            .sort((x, y) => x - y),
        ).toEqual([PER_NODE, MAX_IDS_PER_REQUEST]);
        expect(
          to(b)
            .flatMap((r) => r.ids)
            .sort(),
        ).toEqual([...onB.map((x) => x.id), ...ghosts].sort());
        expect(to(c).map((r) => r.ids.sort())).toEqual([onC.map((x) => x.id).sort()]);
        expect(requests).toHaveLength(3);
      } finally {
        await stopWatching();
        await redis.client.del(...ghosts.map(ownerKey));
        await Promise.all(everyone.map(({ client }) => client.close()));
      }
    });

    it("refuses unsigned and wrongly signed calls as API Gateway does", async () => {
      const [a, , c] = nodes as [StartSuiteNode, StartSuiteNode, StartSuiteNode];
      const client = await TestClient.connect(c.url);
      const { connectionId } = await whoami(client);
      const url = `${a.http}/prod/@connections/${encodeURIComponent(connectionId)}`;

      const unsigned = await fetch(url, { method: "POST", body: "nope" });
      expect(unsigned.status).toBe(403);
      expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
      expect(await unsigned.text()).toBe('{"message":"Missing Authentication Token"}');

      const bearer = await fetch(url, { method: "GET", headers: { Authorization: "Bearer abc" } });
      expect(bearer.status).toBe(403);
      expect(bearer.headers.get("x-amzn-errortype")).toBe("IncompleteSignatureException");

      await expect(
        sdk(a, { ...KEY, secretAccessKey: "wrong" }).send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: "nope" }),
        ),
      ).rejects.toMatchObject({
        name: "InvalidSignatureException",
        message: expect.stringMatching(/^The request signature we calculated does not match/),
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        sdk(a, { accessKeyId: "SBUNKNOWNKEY00000001", secretAccessKey: KEY.secretAccessKey }).send(
          new GetConnectionCommand({ ConnectionId: connectionId }),
        ),
      ).rejects.toMatchObject({
        name: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.",
        $metadata: { httpStatusCode: 403 },
      });
      // Signed for another region: refused as AWS refuses a wrong credential scope.
      await expect(
        new ApiGatewayManagementApiClient({
          endpoint: `${a.http}/prod`,
          region: "eu-west-1",
          credentials: { ...KEY },
          maxAttempts: 1,
        }).send(new GetConnectionCommand({ ConnectionId: connectionId })),
      ).rejects.toMatchObject({ name: "InvalidSignatureException" });
      // A signed body that is not the body sent: the signature does not match.
      const signedPost = await signedRequest(url, "POST", "signed body");
      const tampered = await fetch(url, {
        method: "POST",
        headers: signedPost,
        body: "other body",
      });
      expect(tampered.status).toBe(403);
      expect(tampered.headers.get("x-amzn-errortype")).toBe("InvalidSignatureException");
      // None of them reached the client.
      expect(await client.silentFor(100)).toBe(true);
      // The same signed request, unmodified, goes through.
      const good = await fetch(url, { method: "POST", headers: signedPost, body: "signed body" });
      expect(good.status).toBe(200);
      expect(await client.next()).toBe("signed body");
      await client.close();
    });

    it("answers /healthz, /readyz and /metrics from each node's state and events", async () => {
      const [a, b] = nodes as [StartSuiteNode, StartSuiteNode];
      const health = await fetch(`${a.admin}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${a.admin}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: "ready",
        checks: { app: true, redis: true, draining: true },
      });

      const openBefore = await metric(a, "switchboard_connections_open");
      const client = await TestClient.connect(a.url);
      const { connectionId } = await whoami(client);
      expect(await metric(a, "switchboard_connections_open")).toBe((openBefore ?? 0) + 1);
      const invocations = await metric(
        a,
        "switchboard_invocations_total",
        '{route="whoami",outcome="ok"}',
      );
      expect(invocations).toBeGreaterThanOrEqual(1);
      expect(await metric(a, "switchboard_redis_up")).toBe(1);
      expect(await metric(a, "switchboard_draining")).toBe(0);

      // A post through b forwards to a: b counts the forward and the management call.
      const forwardsBefore =
        (await metric(b, "switchboard_cluster_forwards_total", '{op="send",outcome="ok"}')) ?? 0;
      const postsBefore =
        (await metric(b, "switchboard_management_calls_total", '{method="POST",status="200"}')) ??
        0;
      const outBefore =
        (await metric(a, "switchboard_messages_out_total", '{via="management"}')) ?? 0;
      await sdk(b).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "m" }));
      expect(await client.next()).toBe("m");
      expect(
        await metric(b, "switchboard_cluster_forwards_total", '{op="send",outcome="ok"}'),
      ).toBe(forwardsBefore + 1);
      expect(
        await metric(b, "switchboard_management_calls_total", '{method="POST",status="200"}'),
      ).toBe(postsBefore + 1);
      expect(await metric(a, "switchboard_messages_out_total", '{via="management"}')).toBe(
        outBefore + 1,
      );
      const text = await (await fetch(`${b.admin}/metrics`)).text();
      expect(text).toMatch(/^switchboard_cluster_forward_duration_seconds_count\{op="send"\} \d+/m);
      expect(text).toMatch(/^switchboard_invocation_duration_seconds_bucket\{le="[^"]+",route=/m);
      // Refused calls (the previous test) are counted by status on a.
      expect(
        await metric(a, "switchboard_management_calls_total", '{method="POST",status="403"}'),
      ).toBeGreaterThanOrEqual(2);
      // The broadcast (earlier) counted each connection it forwarded from a: b's 30 and c's 30
      // sent, b's 1,000 ghosts gone.
      expect(
        await metric(a, "switchboard_cluster_forwards_total", '{op="send",outcome="gone"}'),
      ).toBeGreaterThanOrEqual(MAX_IDS_PER_REQUEST);
      await client.close();
    });

    it("drains on SIGTERM: readyz 503, new handshakes 503, in-flight work finishes, clients see 1001, $disconnect runs, the node leaves Redis and exits", async () => {
      const [a, b] = nodes as [StartSuiteNode, StartSuiteNode];
      const clients = await Promise.all([TestClient.connect(b.url), TestClient.connect(b.url)]);
      const ids = (await Promise.all(clients.map(whoami))).map((i) => i.connectionId);
      const [busy] = clients as [TestClient, TestClient];
      for (const id of ids) expect(await redis.client.exists(ownerKey(id))).toBe(1);
      busy.send({ action: "slow", ms: 1500 });
      await eventually(async () =>
        readFileSync(b.events, "utf8").includes(`slow-start ${ids[0]}`) ? true : undefined,
      );
      const signalled = Date.now();
      b.child.kill("SIGTERM");
      await eventually(async () =>
        (await fetch(`${b.admin}/readyz`)).status === 503 ? true : undefined,
      );
      const readyz = await fetch(`${b.admin}/readyz`);
      expect(await readyz.json()).toMatchObject({ status: "unready", checks: { draining: false } });
      // While it drains, a new handshake is refused with 503 (a balancer retries elsewhere).
      expect((await refusedStatus(b.url)).status).toBe(503);

      const closes = await Promise.all(clients.map((client) => client.closed));
      expect(closes).toEqual([
        { code: 1001, reason: "Going away" },
        { code: 1001, reason: "Going away" },
      ]);
      const exit = await b.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - signalled).toBeLessThan(10_000);
      const log = readFileSync(b.events, "utf8").trim().split("\n");
      // The invocation in flight finished, then its connection's $disconnect ran.
      expect(log.indexOf(`slow-done ${ids[0]}`)).toBeGreaterThan(-1);
      expect(log.indexOf(`disconnect ${ids[0]} 1001`)).toBeGreaterThan(
        log.indexOf(`slow-done ${ids[0]}`),
      );
      expect(log).toContain(`disconnect ${ids[1]} 1001`);
      expect(b.lines.map((l) => l.event)).toEqual(expect.arrayContaining(["draining", "drained"]));
      expect(b.lines.every((l) => typeof l.node === "string")).toBe(true);

      // Its connections are gone for the rest of the cluster, and its keys and channel with them.
      await expect(
        sdk(a).send(new PostToConnectionCommand({ ConnectionId: ids[1], Data: "x" })),
      ).rejects.toMatchObject({ name: "GoneException" });
      for (const id of ids) expect(await redis.client.exists(ownerKey(id))).toBe(0);
      expect(await redis.client.smembers(`${START_PREFIX}cluster:nodes`)).not.toContain(
        b.lines[0]?.node,
      );
      expect(await redis.channels(`${START_PREFIX}cluster:node:*`)).not.toContain(channelOf(b));
    });

    it("kill -9 of a node: its connections answer 410 on the other nodes within seconds", async () => {
      const a = nodes[0] as StartSuiteNode;
      const doomed = await startNode("d");
      const client = await TestClient.connect(doomed.url);
      const { connectionId } = await whoami(client);
      // Reachable through another node while its node lives.
      await sdk(a).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "alive" }));
      expect(await client.next()).toBe("alive");
      const killed = Date.now();
      doomed.child.kill("SIGKILL");
      await doomed.exited;
      // No drain, no deregistration: the heartbeat stops, and the other nodes find it dead.
      const status = await eventually(async () => {
        try {
          await sdk(a).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "?" }));
          return undefined;
        } catch (error) {
          const code = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
            ?.httpStatusCode;
          return code === 410 ? code : undefined;
        }
      }, 15_000);
      expect(status).toBe(410);
      expect(Date.now() - killed).toBeLessThan(15_000);
    });

    it("exits within --drain-timeout whatever is still running", async () => {
      const c = nodes[2] as StartSuiteNode;
      const client = await TestClient.connect(c.url);
      const { connectionId } = await whoami(client);
      client.send({ action: "hang" });
      await eventually(async () =>
        readFileSync(c.events, "utf8").includes(`hang-start ${connectionId}`) ? true : undefined,
      );
      const signalled = Date.now();
      c.child.kill("SIGTERM");
      expect(await client.closed).toEqual({ code: 1001, reason: "Going away" });
      const exit = await c.exited;
      expect(exit.at - signalled).toBeLessThan(2000 + 1500);
      expect(exit.code).toBe(1);
      expect(c.lines.map((l) => l.event)).toContain("drain-timeout");
    });
  });
}
