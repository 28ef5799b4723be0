import { Controller, Get, Header, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiExtraModels, ApiForbiddenResponse, ApiOkResponse, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { csvTextCell } from '../common/csv-cell';
import { Readable } from 'node:stream';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { DailyStatementDto, DailyStatementQuery, FareTransactionsQuery, TidesFareTransactionDto } from './settlement.dto';
import { TIDES_FARE_TRANSACTION_FIELDS, type TidesFareTransaction } from './settlement.queries';
import { SettlementService } from './settlement.service';
import { STATEMENT_CSV_COLUMNS, statementCsvRows, type DailyStatement } from './statement';

const SCOPE = { description: "OPERATOR_SCOPE: operator staff asking for another operator's figures" };

@ApiTags('settlement')
@ApiExtraModels(TidesFareTransactionDto)
@ApiBearerAuth()
@Controller('v1')
export class SettlementController {
  constructor(private readonly settlement: SettlementService) {}

  @Get('settlements/daily')
  @Roles('operator', 'admin')
  @ApiOkResponse({ type: DailyStatementDto, description: "The day's statement; every đồng of its revenue is allocated to an operator or shown unallocated (see check)" })
  @ApiForbiddenResponse(SCOPE)
  daily(@CurrentUser() user: AuthUser, @Query() query: DailyStatementQuery): Promise<DailyStatement> {
    return this.settlement.statement(user, query.date, query.operatorId);
  }

  @Get('settlements/daily.csv')
  @Roles('operator', 'admin')
  @Header('content-type', 'text/csv; charset=utf-8')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'The same statement, one row per figure', schema: { type: 'string' } })
  @ApiForbiddenResponse(SCOPE)
  async dailyCsv(@CurrentUser() user: AuthUser, @Query() query: DailyStatementQuery): Promise<string> {
    const statement = await this.settlement.statement(user, query.date, query.operatorId);
    return stringifySync(statementCsvRows(statement), { header: true, columns: [...STATEMENT_CSV_COLUMNS], cast: { string: csvTextCell } });
  }

  @Post('settlements/daily/:date/close')
  @Roles('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: DailyStatementDto, description: 'The frozen statement, with its SHA-256' })
  @ApiConflictResponse({ description: 'DAY_ALREADY_CLOSED, or DAY_NOT_STARTED for a future day' })
  close(@CurrentUser() user: AuthUser, @Param('date') date: string): Promise<DailyStatement> {
    return this.settlement.close(user, date);
  }

  @Get('fare-transactions')
  @Roles('operator', 'admin')
  @ApiProduces('application/json', 'text/csv', 'application/zip')
  @ApiOkResponse({
    description: "The day's purchases, refunds, top-ups, pass activations and accepted taps in TIDES v1.0 fare_transactions shape (streamed)",
    content: {
      'application/json': { schema: { type: 'array', items: { $ref: getSchemaPath(TidesFareTransactionDto) } } },
      'text/csv': { schema: { type: 'string', description: 'fare_transactions.csv: every column of the TIDES table schema, in its order' } },
      'application/zip': { schema: { type: 'string', format: 'binary', description: 'A TIDES data package: datapackage.json, fare_transactions.csv, devices.csv, stops.csv' } },
    },
  })
  @ApiForbiddenResponse(SCOPE)
  fareTransactions(@CurrentUser() user: AuthUser, @Query() query: FareTransactionsQuery): StreamableFile {
    const rows = this.settlement.fareTransactions(user, query.date, query.operatorId);
    if (query.format === 'csv') {
      const csv = Readable.from(rows).pipe(stringify({ header: true, columns: [...TIDES_FARE_TRANSACTION_FIELDS], cast: { boolean: (value) => String(value), string: csvTextCell } }));
      return new StreamableFile(csv, { type: 'text/csv; charset=utf-8' });
    }
    if (query.format === 'datapackage') {
      const zip = this.settlement.fareTransactionsPackage(user, query.date, query.operatorId);
      return new StreamableFile(zip, { type: 'application/zip', disposition: `attachment; filename="tides-fare-transactions-${query.date}.zip"` });
    }
    return new StreamableFile(Readable.from(jsonArray(rows)), { type: 'application/json; charset=utf-8' });
  }
}

/** A JSON array written element by element, so a day of millions never sits in memory at once. */
async function* jsonArray(rows: AsyncIterable<TidesFareTransaction>): AsyncGenerator<string> {
  let first = true;
  for await (const row of rows) {
    yield `${first ? '[' : ','}${JSON.stringify(row)}`;
    first = false;
  }
  yield first ? '[]' : ']';
}
