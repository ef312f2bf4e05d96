/** Run artifacts in a Map, for unit tests and the in-memory world. */
import type { ArtifactStore, ObjectLocation } from '../../domain/common';

export class MemoryArtifactStore implements ArtifactStore {
  readonly objects = new Map<string, string>();
  readonly puts: ObjectLocation[] = [];

  constructor(readonly bucket = 'artifacts-bucket') {}

  private static id(location: ObjectLocation): string {
    return `${location.bucket}/${location.key}`;
  }

  async put(location: ObjectLocation, body: string): Promise<void> {
    this.puts.push(location);
    this.objects.set(MemoryArtifactStore.id(location), body);
  }

  async get(location: ObjectLocation): Promise<string | null> {
    return this.objects.get(MemoryArtifactStore.id(location)) ?? null;
  }
}
