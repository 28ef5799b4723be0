import { Controller, Get, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module';
import { Public, Roles } from '../../src/common/access.decorator';
import { loadConfig } from '../../src/config/config';
import { declaredRoutes } from '../support/routes';

/** Nest's preview mode: the module graph without connecting to anything. */
async function preview(module: object): Promise<INestApplicationContext> {
  return NestFactory.create(module as never, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
}

describe('access rules', () => {
  it('every route of the app declares @Public() or @Roles()', async () => {
    const app = await preview(AppModule.forRoot(loadConfig({ NODE_ENV: 'test' })));
    try {
      const routes = declaredRoutes(app);
      expect(routes.length).toBeGreaterThan(10);
      expect(routes.filter((route) => route.rule === undefined).map((route) => route.route)).toEqual([]);
      expect(routes.find((route) => route.route.startsWith('AccountsController.me '))?.rule).toEqual({
        public: false,
        roles: ['passenger', 'operator', 'admin'],
      });
    } finally {
      await app.close();
    }
  });

  it('finds a route that declares nothing', async () => {
    @Public()
    @Controller('open')
    class OpenController {
      @Get() read() {}
    }
    @Controller('forgotten')
    class ForgottenController {
      @Roles('admin') @Get('declared') declared() {}
      @Get('undeclared') undeclared() {}
    }
    @Module({ controllers: [OpenController, ForgottenController] })
    class SampleModule {}

    const app = await preview(SampleModule);
    try {
      const missing = declaredRoutes(app).filter((route) => route.rule === undefined);
      expect(missing.map((route) => route.route)).toEqual(['ForgottenController.undeclared (0) undeclared']);
    } finally {
      await app.close();
    }
  });
});
