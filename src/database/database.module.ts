import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { dataSourceOptions } from './data-source-options';
import { migrateWithLock } from './migrate';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config),
        autoLoadEntities: true,
        migrationsRun: config.database.migrateOnStart,
      }),
      // Migrate here, under a lock, before anything can inject the DataSource: no module ever sees an old schema.
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('TypeORM options are missing');
        const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
        if (options.migrationsRun) await migrateWithLock(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
