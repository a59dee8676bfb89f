import { SwitchboardError } from "../errors.js";
import type { RedisClient } from "./redis-client.js";

/**
 * The pub/sub the cluster's nodes talk over. Two forms, one contract:
 *
 * - **classic** (`PUBLISH`/`SUBSCRIBE`/`PUBSUB NUMSUB`): one Redis instance or Sentinel;
 * - **sharded** (Redis 7 `SPUBLISH`/`SSUBSCRIBE`/`PUBSUB SHARDNUMSUB`): Redis Cluster. A
 *   classic `PUBLISH` there is copied to every node of the cluster and its answer counts only
 *   the subscribers of the node it was sent to, so "no node listens" (410) could not be told
 *   from "listens elsewhere". A shard channel lives on the master owning its slot: the message
 *   goes to that shard only and the count is exact.
 *
 * `publish` answers how many subscribers received the message; `numsub` how many each channel
 * has. Every channel and `slotKey` of one call share a hash tag (one slot).
 */
export interface RedisBus {
  readonly sharded: boolean;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Subscribers of each channel; `slotKey` is any key in the channels' slot (routing). */
  numsub(channels: readonly string[], slotKey: string): Promise<number[]>;
  onMessage(listener: (channel: string, message: string) => void): void;
}

// Runs on the master owning KEYS[1]'s slot, where the shard channels (same hash tag) live.
const SHARDNUMSUB = `return redis.call('PUBSUB', 'SHARDNUMSUB', unpack(ARGV))`;

/** The bus over a command client and a subscriber client (sharded on a Redis Cluster). */
export function redisBus(
  commands: RedisClient,
  subscriber: RedisClient,
  sharded: boolean,
): RedisBus {
  if (!sharded) {
    return {
      sharded,
      publish: (channel, message) => commands.publish(channel, message),
      subscribe: async (channel) => {
        await subscriber.subscribe(channel);
      },
      unsubscribe: async (channel) => {
        await subscriber.unsubscribe(channel);
      },
      numsub: async (channels) => {
        if (channels.length === 0) return [];
        const reply = (await commands.pubsub("NUMSUB", ...channels)) as Array<string | number>;
        return channels.map((_, i) => Number(reply[2 * i + 1] ?? 0));
      },
      onMessage: (listener) => {
        subscriber.on("message", listener);
      },
    };
  }
  return {
    sharded,
    publish: async (channel, message) => Number(await commands.spublish(channel, message)),
    subscribe: async (channel) => {
      try {
        await subscriber.ssubscribe(channel);
      } catch (error) {
        const message = (error as Error).message ?? String(error);
        throw new SwitchboardError(
          "SB_ERR_REDIS",
          /unknown command/i.test(message)
            ? "Redis Cluster needs Redis 7 or later (sharded pub/sub: SSUBSCRIBE)"
            : `cannot subscribe to this node's channel: ${message}`,
          { cause: error },
        );
      }
    },
    unsubscribe: async (channel) => {
      await subscriber.sunsubscribe(channel);
    },
    numsub: async (channels, slotKey) => {
      if (channels.length === 0) return [];
      const reply = (await commands.eval(SHARDNUMSUB, 1, slotKey, ...channels)) as Array<
        string | number
      >;
      return channels.map((_, i) => Number(reply[2 * i + 1] ?? 0));
    },
    onMessage: (listener) => {
      subscriber.on("smessage", listener);
    },
  };
}
