	Bsqrt_alphas_cumprodJHs
[…„ьп?Bp~щп?UWйхп?‡Ж,Дцсп?иb¶Шп?"]©ўBо?хЖЋWQТа?vП	tе”±?&и6Пy±?