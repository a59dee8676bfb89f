import { describe, expect, it } from "vitest";
import { apiIdFor } from "../../src/app/aws-names.js";
import {
  buildAuthorizerEvent,
  buildConnectEvent,
  buildDisconnectEvent,
  buildHandshake,
  buildMessageEvent,
  type ConnectionFacts,
} from "../../src/gateway/events.js";
import { newId } from "../../src/gateway/ids.js";
import { requestTime } from "../../src/gateway/request-time.js";

const facts: ConnectionFacts = {
  connectionId: "BFaT_fALIAMCKug=",
  connectedAt: 1731332735513,
  identity: { sourceIp: "166.90.225.1" },
  domainName: "abc123.execute-api.us-east-1.amazonaws.com",
  stage: "prod",
  apiId: "abc123",
};

describe("event builders", () => {
  it("ids look like AWS ids: 16 characters ending in =", () => {
    const ids = new Set(Array.from({ length: 5000 }, newId));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{15}=$/);
  });

  it("api ids are stable per app name and 10 lowercase characters", () => {
    expect(apiIdFor("chat")).toBe(apiIdFor("chat"));
    expect(apiIdFor("chat")).not.toBe(apiIdFor("chat2"));
    expect(apiIdFor("chat")).toMatch(/^[a-z0-9]{10}$/);
  });

  it("formats requestTime in CLF, UTC", () => {
    expect(requestTime(Date.UTC(2024, 10, 11, 11, 35, 24, 553))).toBe("11/Nov/2024:11:35:24 +0000");
    expect(requestTime(Date.UTC(2025, 0, 2, 3, 4, 5))).toBe("02/Jan/2025:03:04:05 +0000");
  });

  it("keeps header casing, drops Connection/Upgrade from $connect but not from the authorizer event", () => {
    const handshake = buildHandshake(
      [
        "Host",
        "h",
        "Connection",
        "Upgrade",
        "Upgrade",
        "websocket",
        "X-Dup",
        "1",
        "X-Dup",
        "2",
        "X-Forwarded-For",
        "10.0.0.1",
      ],
      "?a=1&a=2&b=",
      { sourceIp: "1.2.3.4", port: 443, proto: "https", now: 0 },
    );
    expect(handshake.headers).toMatchObject({
      Host: "h",
      "X-Dup": "2",
      "X-Forwarded-For": "10.0.0.1, 1.2.3.4",
      "X-Forwarded-Port": "443",
      "X-Forwarded-Proto": "https",
    });
    expect(handshake.headers).not.toHaveProperty("Connection");
    expect(handshake.headers).not.toHaveProperty("Upgrade");
    expect(handshake.multiValueHeaders["X-Dup"]).toEqual(["1", "2"]);
    expect(handshake.authorizerHeaders).toHaveProperty("Connection", "Upgrade");
    expect(handshake.queryStringParameters).toEqual({ a: "2", b: "" });
    expect(handshake.multiValueQueryStringParameters).toEqual({ a: ["1", "2"], b: [""] });
    expect(
      buildHandshake([], "", { sourceIp: "x", port: 1, proto: "http", now: 0 }),
    ).not.toHaveProperty("queryStringParameters");
  });

  it("builds the three event types with exactly the fields AWS sends", () => {
    const handshake = buildHandshake(["Host", "h"], "", {
      sourceIp: "1.2.3.4",
      port: 443,
      proto: "https",
      now: 0,
    });
    const connect = buildConnectEvent(facts, handshake, 1731332735600);
    expect(Object.keys(connect)).toEqual([
      "headers",
      "multiValueHeaders",
      "requestContext",
      "isBase64Encoded",
    ]);
    expect(Object.keys(connect.requestContext)).toEqual([
      "routeKey",
      "eventType",
      "extendedRequestId",
      "requestTime",
      "messageDirection",
      "stage",
      "connectedAt",
      "requestTimeEpoch",
      "identity",
      "requestId",
      "domainName",
      "connectionId",
      "apiId",
    ]);
    const message = buildMessageEvent(facts, "chat", '{"action":"chat"}', 1731332746514);
    expect(Object.keys(message)).toEqual(["requestContext", "body", "isBase64Encoded"]);
    expect(message.requestContext.messageId).toMatch(/=$/);
    expect(message.requestContext.requestTime).toBe("11/Nov/2024:13:45:46 +0000");
    const disconnect = buildDisconnectEvent(
      facts,
      1005,
      "Client-side close frame status not set",
      1731333109875,
    );
    expect(disconnect.headers).toEqual({
      Host: facts.domainName,
      "x-api-key": "",
      "X-Forwarded-For": "",
      "x-restapi": "",
    });
    expect(disconnect.multiValueHeaders).toEqual({
      Host: [facts.domainName],
      "x-api-key": [""],
      "X-Forwarded-For": [""],
      "x-restapi": [""],
    });
    expect(disconnect.requestContext).toMatchObject({
      routeKey: "$disconnect",
      eventType: "DISCONNECT",
      disconnectStatusCode: 1005,
      disconnectReason: "Client-side close frame status not set",
    });
    expect(disconnect).not.toHaveProperty("body");
  });

  it("carries the authorizer context on every event, and builds the authorizer's methodArn", () => {
    const withAuth = {
      ...facts,
      authorizer: { principalId: "u1", integrationLatency: 3, role: "admin" },
    };
    expect(buildMessageEvent(withAuth, "x", "{}", 0).requestContext.authorizer).toEqual(
      withAuth.authorizer,
    );
    expect(buildDisconnectEvent(withAuth, 1000, "", 0).requestContext.authorizer).toEqual(
      withAuth.authorizer,
    );
    const handshake = buildHandshake(["Host", "h"], "?token=t", {
      sourceIp: "1.2.3.4",
      port: 443,
      proto: "https",
      now: 0,
    });
    const auth = buildAuthorizerEvent(facts, handshake, "eu-west-1", "123456789012", 0);
    expect(auth.type).toBe("REQUEST");
    expect(auth.methodArn).toBe("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$connect");
    expect(auth.queryStringParameters).toEqual({ token: "t" });
    expect(auth.requestContext.eventType).toBe("CONNECT");
  });
});
