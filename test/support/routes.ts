import type { INestApplicationContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import { ACCESS_METADATA, type AccessRule } from '../../src/common/access.decorator';

export interface DeclaredRoute {
  route: string;
  rule: AccessRule | undefined;
  /** The OpenAPI operation id: `Controller_method`, unless `@ApiOperation({ operationId })` sets one. */
  operationId: string;
}

/** Every HTTP route of the app's controllers with the access rule it declares (on the handler or its class). */
export function declaredRoutes(app: INestApplicationContext): DeclaredRoute[] {
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const controllers = [...app.get(ModulesContainer).values()].flatMap((module) => [...module.controllers.values()]);
  return controllers.flatMap((wrapper) => {
    const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
    if (!controller) return [];
    const prototype = controller.prototype as Record<string, (...args: unknown[]) => unknown>;
    return scanner.getAllMethodNames(prototype).flatMap((name) => {
      const handler = prototype[name];
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) return [];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as number;
      const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [handler, controller]);
      const operation = Reflect.getMetadata(DECORATORS.API_OPERATION, handler) as { operationId?: string } | undefined;
      return [{ route: `${controller.name}.${name} (${method}) ${path}`, rule, operationId: operation?.operationId ?? `${controller.name}_${name}` }];
    });
  });
}
