import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/access.decorator';
import { LineDetailDto, LineDto, ListLinesQuery, OperatorDto } from './network.dto';
import { NetworkService } from './network.service';

@ApiTags('network')
@Public()
@Controller('v1')
export class NetworkController {
  constructor(private readonly network: NetworkService) {}

  @Get('operators')
  @ApiOkResponse({ type: [OperatorDto] })
  listOperators(): Promise<OperatorDto[]> {
    return this.network.listOperators();
  }

  @Get('lines')
  @ApiOkResponse({ type: [LineDto] })
  listLines(@Query() query: ListLinesQuery): Promise<LineDto[]> {
    return this.network.listLines(query);
  }

  @Get('lines/:id')
  @ApiOkResponse({ type: LineDetailDto })
  @ApiNotFoundResponse({ description: 'No line with that id' })
  getLine(@Param('id') id: string): Promise<LineDetailDto> {
    return this.network.getLine(id);
  }
}
