/*
 * rules_seed.c - the rule rows of ../shared/domain/rules.md, as seeded into
 * zone_rules: the national rows enabled, the local examples disabled until
 * an administrator binds one to his region and enables it.
 *
 * Method codes: rules.md's door_to_door_walk and shortest_walk are both
 * `walking`; a local text that says "from the gate" is `gate_radius`, "from
 * the entrances" `entrance_straight`; a text that does not say how to
 * measure is `boundary_straight`, the national interpretation (2003).
 */
#include "zone/rules_seed.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCHOOLS "小学 初中 九年一贯制 高中 完全中学 十二年一贯制 中职 特殊教育"
#define MINORS "幼儿园 " SCHOOLS
#define KG "幼儿园"
#define NONE NAN

#define M58_SRC "《中华人民共和国未成年人保护法》（2020年修订）", "全国人大常委会", "第五十八条"
#define M58_Q "学校、幼儿园周边不得设置营业性娱乐场所、酒吧、互联网上网服务营业场所等不适宜未成年人活动的场所。"
#define M59_SRC "《中华人民共和国未成年人保护法》（2020年修订）", "全国人大常委会", "第五十九条"
#define M59_Q "学校、幼儿园周边不得设置烟、酒、彩票销售网点。"
#define OTH_Q "各地校园周边治安综合治理工作方案将其列为排查对象"

const struct rule_seed rule_seeds[] = {
	/* national rows (rules.md §1) */
	{ "Z-NET-1", "", "全国", "internet_cafe", SCHOOLS, 200, "boundary_straight", "禁止",
	  "《互联网上网服务营业场所管理条例》（国务院令第363号）", "国务院", "第九条",
	  "中学、小学校园周围200米范围内和居民住宅楼（院）内不得设立互联网上网服务营业场所", "V", "2002-11-15", 1,
	  "测量方法依国务院法制办公室2003年答复（文市函〔2003〕560号）：自中学、小学围墙或者校园边界的任意一点向外沿直线延伸200米的区域。幼儿园不在此条范围内。" },
	{ "Z-NET-2", "", "全国", "internet_cafe", KG, NONE, "boundary_straight", "需审查",
	  "《文化和旅游部关于调整娱乐场所和互联网上网服务营业场所审批有关事项的通知》（文旅市场发〔2021〕57号）",
	  "文化和旅游部", "二",
	  "幼儿园与娱乐场所、互联网上网服务营业场所距离及测量方法，由省级文化和旅游行政部门结合实际作出具体规定", "V",
	  "2021-05-27", 1, "国家层面无距离：省级规定加载前一律需审查。" },
	{ "Z-M58-NET", "", "全国", "internet_cafe", MINORS, NONE, "boundary_straight", "需审查", M58_SRC, M58_Q, "V",
	  "2021-06-01", 1, "法律未规定距离，由地方规定。" },
	{ "Z-M58-GAME", "", "全国", "game_arcade", MINORS, NONE, "boundary_straight", "需审查", M58_SRC, M58_Q, "V",
	  "2021-06-01", 1, "另见《娱乐场所管理条例》第七条、《娱乐场所管理办法》第六条：距离由省级文化和旅游主管部门规定。" },
	{ "Z-M58-KTV", "", "全国", "ktv_dance", MINORS, NONE, "boundary_straight", "需审查", M58_SRC, M58_Q, "V",
	  "2021-06-01", 1, "另见《娱乐场所管理条例》第七条、《娱乐场所管理办法》第六条：距离由省级文化和旅游主管部门规定。" },
	{ "Z-M58-BAR", "", "全国", "bar", MINORS, NONE, "boundary_straight", "需审查", M58_SRC, M58_Q, "V", "2021-06-01",
	  1, "法律未规定距离，由地方规定。" },
	{ "Z-M59-TOB", "", "全国", "tobacco", MINORS, NONE, "boundary_straight", "需审查", M59_SRC, M59_Q, "V",
	  "2021-06-01", 1, "距离由县级以上烟草专卖局的烟草制品零售点合理布局规划规定（多为50米）。" },
	{ "Z-M59-ALC", "", "全国", "alcohol", MINORS, NONE, "boundary_straight", "需审查", M59_SRC, M59_Q, "V",
	  "2021-06-01", 1, "法律未规定距离，由地方规定。" },
	{ "Z-M59-LOT", "", "全国", "lottery", MINORS, NONE, "boundary_straight", "需审查", M59_SRC, M59_Q, "V",
	  "2021-06-01", 1, "原财政部“中小学校周围200米”规定已于2011年废止，不得引用。" },
	{ "Z-ADULT-1", "", "全国", "adult", SCHOOLS, NONE, "boundary_straight", "需审查",
	  "国家工商总局意见（工商办字〔2011〕240号）", "国家工商行政管理总局", "第三十二项",
	  "禁止在学校周围设立电子游艺室、歌舞厅等娱乐场所和成年人性用品商店", "S", "2011-01-01", 1,
	  "政策性意见，非法规，无距离。" },
	{ "Z-ESP-1", "", "全国", "esports_hotel", MINORS, NONE, "boundary_straight", "重点关注",
	  "《文化和旅游部 公安部关于加强电竞酒店管理中未成年人保护工作的通知》", "文化和旅游部、公安部", "",
	  "专业电竞酒店和非专业电竞酒店的电竞房区域，属于不适宜未成年人活动的场所", "S", "2023-08-10", 1,
	  "无选址距离规定；检查未成年人入住、标志、每间电竞房不超过6张床。" },
	{ "Z-SCR-1", "", "全国", "script_escape", MINORS, NONE, "boundary_straight", "重点关注",
	  "《关于加强剧本娱乐经营场所管理的通知》", "文化和旅游部等五部门", "",
	  "除国家法定节假日、休息日及寒暑假期外，剧本娱乐经营场所不得向未成年人提供剧本娱乐活动", "S", "2022-06-27", 1,
	  "无选址距离规定；开业30日内向县级文化和旅游部门备案。" },
	{ "Z-PUB-1", "", "全国", "publication", MINORS, NONE, "boundary_straight", "重点关注", "", "", "", "", "M", NULL, 1,
	  "未见国家选址规定；“扫黄打非·护苗”专项中列为检查对象。" },
	{ "Z-TRN-1", "", "全国", "tutoring", MINORS, NONE, "boundary_straight", "重点关注", "", "", "", "", "M", NULL, 1,
	  "未见国家选址规定；从业人员查询与强制报告义务适用。" },
	{ "Z-OTH-HOTEL", "", "全国", "hotel", MINORS, NONE, "boundary_straight", "重点关注", "校园及周边治安综合治理工作方案",
	  "", "", OTH_Q, "S", NULL, 1, "无选址距离规定，列为检查对象。" },
	{ "Z-OTH-RENT", "", "全国", "rental", MINORS, NONE, "boundary_straight", "重点关注", "校园及周边治安综合治理工作方案",
	  "", "", OTH_Q, "S", NULL, 1, "无选址距离规定，列为检查对象。" },
	{ "Z-OTH-FOOD", "", "全国", "eatery", MINORS, NONE, "boundary_straight", "重点关注", "校园及周边治安综合治理工作方案",
	  "", "", OTH_Q, "S", NULL, 1, "食品安全检查对象。" },
	{ "Z-OTH-MEAL", "", "全国", "meal_supplier", MINORS, NONE, "boundary_straight", "重点关注",
	  "校园及周边治安综合治理工作方案", "", "", OTH_Q, "S", NULL, 1, "食品安全检查对象。" },
	{ "Z-OTH-STALL", "", "全国", "stall", MINORS, NONE, "boundary_straight", "重点关注", "校园及周边治安综合治理工作方案",
	  "", "", OTH_Q, "S", NULL, 1, "距离由地方规定（如陕西校门口30米、湖北200米）。" },
	{ "Z-OTH-SHOP", "", "全国", "shop", MINORS, NONE, "boundary_straight", "重点关注", "校园及周边治安综合治理工作方案",
	  "", "", OTH_Q, "S", NULL, 1, "检查“三无”食品、危害未成年人身心健康的文具玩具。" },

	/* local examples (rules.md §3): disabled until an administrator binds one to a region */
	{ "L-GD-NET", "", "广东省", "internet_cafe", SCHOOLS, 200, "walking", "禁止",
	  "《广东省文化和旅游厅 广东省教育厅关于调整娱乐场所和互联网上网服务营业场所审批有关事项的通知》（粤文旅规〔2023〕1号）",
	  "广东省文化和旅游厅、广东省教育厅", "", "学校与娱乐场所、互联网上网服务营业场所距离不得少于200米", "S",
	  "2023-02-24", 0, "任何一个进出门与学校任何一个进出门之间，按照交通行走规则进行测量。" },
	{ "L-GD-ENT", "", "广东省", "ktv_dance", SCHOOLS, 200, "walking", "禁止", "粤文旅规〔2023〕1号",
	  "广东省文化和旅游厅、广东省教育厅", "", "学校与娱乐场所、互联网上网服务营业场所距离不得少于200米", "S",
	  "2023-02-24", 0, "按出入口之间步行距离测量。" },
	{ "L-GD-NET-KG", "", "广东省", "internet_cafe", KG, 100, "walking", "禁止", "粤文旅规〔2023〕1号",
	  "广东省文化和旅游厅、广东省教育厅", "", "幼儿园与娱乐场所、互联网上网服务场所距离不得少于100米", "S",
	  "2023-02-24", 0, "按出入口之间步行距离测量。" },
	{ "L-SN-ENT", "", "陕西省", "game_arcade", SCHOOLS, 200, "boundary_straight", "禁止",
	  "《陕西省学校校园周边环境管理规定》（2012年修订）", "陕西省人民政府", "第十一条",
	  "禁止在中小学校校园周边200米以内和高等学校门口50米以内开办电子游戏厅、录像厅、歌舞厅、网吧、台球室、棋牌室等营业性娱乐场所",
	  "V", "2012-01-01", 0, "原文未规定测量方法，按校园边界直线距离。" },
	{ "L-SN-ENT-HE", "", "陕西省", "game_arcade", "高校", 50, "gate_radius", "禁止",
	  "《陕西省学校校园周边环境管理规定》（2012年修订）", "陕西省人民政府", "第十一条",
	  "禁止在……高等学校门口50米以内开办……营业性娱乐场所", "V", "2012-01-01", 0, "自校门起算。" },
	{ "L-SN-STALL", "", "陕西省", "stall", MINORS, 30, "gate_radius", "禁止",
	  "《陕西省学校校园周边环境管理规定》（2012年修订）", "陕西省人民政府", "第十二条", "禁止在校园门口30米以内摆摊设点",
	  "V", "2012-01-01", 0, "自校门起算。" },
	{ "L-HB-NET", "", "湖北省", "internet_cafe", SCHOOLS, 200, "boundary_straight", "禁止",
	  "《湖北省学校周边安全区域管理办法》", "湖北省人民政府", "",
	  "中小学校园周边200米范围内不得设立上网服务营业场所和娱乐场所", "S", "2024-10-01", 0, "原文未规定测量方法。" },
	{ "L-HB-TOB", "", "湖北省", "tobacco", SCHOOLS, 50, "boundary_straight", "禁止",
	  "《湖北省学校周边安全区域管理办法》", "湖北省人民政府", "",
	  "中小学校园周边50米范围内，禁止售卖烟（含电子烟，下同）、酒", "S", "2024-10-01", 0,
	  "现有烟草许可证到期不再延续。" },
	{ "L-HF-TOB", "", "合肥市", "tobacco", SCHOOLS, 50, "walking", "禁止",
	  "《合肥市烟草制品零售点合理布局规划（2019年-2023年修正版）》", "合肥市烟草专卖局", "", "", "S", NULL, 0,
	  "按行人习惯行走的最短路线测量。" },
	{ "L-XA-BL-TOB", "", "西安市碑林区", "tobacco", SCHOOLS, 50, "gate_radius", "禁止",
	  "《西安市碑林区烟草制品零售点合理布局规划》", "西安市碑林区烟草专卖局", "",
	  "校门（在校学生通行的出入口）中间点为圆心，50米为半径的区域", "S", NULL, 0, "" },
	{ "L-YC-TOB", "", "宜昌市", "tobacco", SCHOOLS, 50, "entrance_straight", "禁止",
	  "《宜昌市城区烟草制品零售点合理布局规划》", "宜昌市烟草专卖局", "第六条、第十二条", "", "S", NULL, 0,
	  "自学校出入口起算；现有许可证到期不再延续。" },
	{ "L-WN-TOB", "", "万宁市", "tobacco", MINORS, 80, "walking", "禁止",
	  "《万宁市烟草制品零售点合理布局规划（征求意见稿）》", "万宁市烟草专卖局", "", "", "草案", NULL, 0,
	  "征求意见稿，未生效。" },
	{ .code = NULL },
};

int rule_seed_to_zx(const struct rule_seed *s, struct zx_rule *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->code, sizeof r->code, "%s", s->code);
	snprintf(r->region_path, sizeof r->region_path, "%s", s->region_path);
	r->version = 1;
	r->category = zx_category_index(s->category);
	r->distance_m = s->distance_m;
	r->method = zx_method_index(s->method);
	r->effect = zx_verdict_index(s->effect);
	r->may_forbid = strcmp(s->confidence, "V") == 0;
	if (zx_stages_parse(s->stages, &r->stages) || r->category < 0 || r->method < 0 || r->effect < 0)
		return -1;
	return 0;
}

size_t zx_national_rules(struct zx_rule *out, size_t max)
{
	size_t n = 0;
	for (const struct rule_seed *s = rule_seeds; s->code; s++) {
		if (s->region_path[0] || !s->enabled || n >= max)
			continue;
		if (rule_seed_to_zx(s, &out[n]) == 0)
			out[n].id = (int64_t)(s - rule_seeds) + 1, n++;
	}
	return n;
}

int zx_stages_parse(const char *list, uint32_t *bits)
{
	*bits = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list ? list : "");
	/* the Chinese separators "，" and "、" become spaces (byte-wise
	 * strtok must not see their bytes, which stage names share) */
	for (const char *sep[] = { "，", "、", NULL }, **q = sep; *q; q++)
		for (char *hit; (hit = strstr(buf, *q));)
			memset(hit, ' ', strlen(*q));
	char *save = NULL;
	for (char *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
		int i = zx_stage_index(t);
		if (i < 0)
			return -1;
		*bits |= 1u << i;
	}
	return *bits ? 0 : -1;
}
