import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Roles } from '../../common/access.decorator';
import { IsInstant } from '../fares.dto';
import { NetworkService } from '../../network/network.service';
import { FaresService } from '../fares.service';
import { buildGtfsFares, gtfsZip } from './gtfs-fares';

export class GtfsFeedQuery {
  @ApiPropertyOptional({ example: '2026-07-01T00:00:00+07:00', description: 'The feed starts on the local day of this instant, with the fares in force then (default: now)' })
  @IsOptional()
  @IsInstant()
  at?: string;

  @ApiPropertyOptional({ example: 365, description: 'How many local days the feed covers (default 365)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  days?: number;
}

@ApiTags('fares')
@ApiBearerAuth()
@Controller('v1/gtfs')
export class GtfsController {
  constructor(
    private readonly fares: FaresService,
    private readonly network: NetworkService,
  ) {}

  /** The same feed as `npm run gtfs:export` without a base feed. */
  @Get('feed.zip')
  @Roles('operator', 'admin')
  @ApiProduces('application/zip')
  @ApiOkResponse({
    description: 'A zipped GTFS feed with Fares v2: agency, stops, routes, fares per tariff period and waiver, feed_info (no trips: see the README)',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  })
  async feed(@Query() query: GtfsFeedQuery): Promise<StreamableFile> {
    const at = query.at === undefined ? Date.now() : Date.parse(query.at);
    const files = buildGtfsFares(this.fares.calculator(), at, { days: query.days, operators: await this.network.listOperators() });
    return new StreamableFile(gtfsZip(files), { type: 'application/zip', disposition: 'attachment; filename="gtfs.zip"' });
  }
}
