import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AuditModule } from './audit/audit.module';
import { BankCardsModule } from './bank-cards/bank-cards.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AuthModule } from './common/auth.module';
import { LoggingModule } from './common/logging.module';
import { createValidationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { LeadershipModule } from './database/leadership';
import { DevicesModule } from './devices/devices.module';
import { FaresModule } from './fares/fares.module';
import { HealthModule } from './health/health.module';
import { InspectionModule } from './inspection/inspection.module';
import { PaymentOutcomesModule } from './payment-outcomes/payment-outcomes.module';
import { JourneysModule } from './journeys/journeys.module';
import { MediaModule } from './media/media.module';
import { MetricsModule } from './metrics/metrics.module';
import { NetworkModule } from './network/network.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PaymentsModule } from './payments/payments.module';
import { RedisModule } from './redis/redis.module';
import { ReportsModule } from './reports/reports.module';
import { SettlementModule } from './settlement/settlement.module';
import { SupportModule } from './support/support.module';
import { TicketsModule } from './tickets/tickets.module';
import { ValidationModule } from './validation/validation.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule,
        LeadershipModule,
        RedisModule,
        MetricsModule,
        HealthModule,
        NetworkModule,
        FaresModule,
        AccountsModule,
        DevicesModule,
        AuthModule,
        PaymentsModule,
        TicketsModule,
        BankCardsModule,
        MediaModule,
        ValidationModule,
        SettlementModule,
        JourneysModule,
        AuditModule,
        SupportModule,
        InspectionModule,
        PaymentOutcomesModule,
        NotificationsModule,
        ReportsModule,
      ],
      providers: [
        // Global through the container, so every app built from this module, tests included, gets them.
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
